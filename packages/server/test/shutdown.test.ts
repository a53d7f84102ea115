import { Type } from "@sinclair/typebox";
import { describe, expect, it } from "vitest";
import { connect, sleep, startGateway, TestClient } from "./helpers.js";

const handles = () => {
  const counts: Record<string, number> = {};
  for (const resource of process.getActiveResourcesInfo()) counts[resource] = (counts[resource] ?? 0) + 1;
  return counts;
};

describe("graceful shutdown", () => {
  it("lets an in-flight request finish, sends shutdown, closes with 1012, and leaves nothing running", async () => {
    const before = handles();
    const gateway = await startGateway({ tickIntervalMs: 1000, healthIntervalMs: 1000 });
    const order: string[] = [];
    let serviceStopped = false;
    gateway.server.registerService({
      name: "test-service",
      start() {},
      stop() {
        serviceStopped = true;
      },
    });
    gateway.server.registerMethod(
      "test.slow",
      async () => {
        await sleep(200);
        return { done: true };
      },
      { params: Type.Object({}), scope: "operator.read" },
    );
    const { client } = await connect(gateway.url);
    const response = client.request("test.slow", {}).then((frame) => {
      order.push("response");
      return frame;
    });
    void client.waitForEvent("shutdown").then(() => order.push("shutdown-event"));
    void client.closed.then(() => order.push("closed"));
    await sleep(20);
    const closing = gateway.stop();
    await sleep(10);
    // Still answering HTTP while it drains, but no longer ready.
    expect((await fetch(`http://127.0.0.1:${gateway.port}/readyz`)).status).toBe(503);
    // New connections are refused while closing.
    const late = await TestClient.open(gateway.url).catch(() => undefined);
    if (late) expect((await late.closed).code).toBe(1012);
    await closing;
    expect((await response).payload).toEqual({ done: true });
    const closed = await client.closed;
    expect(closed).toMatchObject({ code: 1012, reason: "gateway stopping" });
    expect(order).toEqual(["shutdown-event", "response", "closed"]);
    expect(serviceStopped).toBe(true);
    await sleep(50);
    const after = handles();
    for (const kind of ["TCPServerWrap", "TCPSocketWrap", "Timeout"]) {
      expect(after[kind] ?? 0, kind).toBeLessThanOrEqual(before[kind] ?? 0);
    }
  });

  it("answers requests that arrive during shutdown with a retryable UNAVAILABLE", async () => {
    const gateway = await startGateway();
    gateway.server.registerMethod(
      "test.slow",
      async () => {
        await sleep(150);
        return {};
      },
      { params: Type.Object({}), scope: "operator.read" },
    );
    const { client } = await connect(gateway.url);
    void client.request("test.slow", {});
    await sleep(10);
    const closing = gateway.stop();
    await sleep(10);
    const refused = await client.request("health");
    expect(refused.error).toMatchObject({ code: "UNAVAILABLE", retryable: true });
    await closing;
  });

  it("bounds the wait for in-flight requests", async () => {
    const gateway = await startGateway({ shutdownTimeoutMs: 100, requestTimeoutMs: 60_000 });
    gateway.server.registerMethod("test.forever", () => new Promise(() => {}), {
      params: Type.Object({}),
      scope: "operator.read",
    });
    const { client } = await connect(gateway.url);
    void client.request("test.forever", {});
    await sleep(10);
    const started = Date.now();
    await gateway.stop();
    expect(Date.now() - started).toBeLessThan(5_000);
    expect((await client.closed).code).toBe(1012);
  });

  it("close() is idempotent", async () => {
    const gateway = await startGateway();
    await Promise.all([gateway.server.close(), gateway.server.close()]);
    await gateway.stop();
  });
});
