import { settle, until } from "@gateway/vitest-preset/wait";
import { afterEach, describe, expect, it, vi } from "vitest";
import { ConnectRefusal } from "../src/index.js";
import { connect, connectParams, startGateway, TestClient, type TestGateway } from "./helpers.js";

let gateway: TestGateway | undefined;
afterEach(async () => {
  vi.restoreAllMocks();
  await gateway?.stop();
  gateway = undefined;
});

describe("extension points", () => {
  it("a listener, a warnings provider or a handler that throws is logged and contained", async () => {
    const unhandled: unknown[] = [];
    const onUnhandled = (reason: unknown) => unhandled.push(reason);
    process.on("unhandledRejection", onUnhandled);
    try {
      gateway = await startGateway();
      gateway.server.onConnection(() => {
        throw new Error("a listener's bug");
      });
      gateway.server.onConnection((() => Promise.reject(new Error("an async listener's bug"))) as never);
      gateway.server.addWarnings(() => {
        throw new Error("a provider's bug");
      });
      gateway.server.registerMethod("config.get", async () => {
        throw new Error("a handler's bug");
      });
      const { client } = await connect(gateway.url);
      const failed = await client.request("config.get");
      expect(failed.error).toMatchObject({
        code: "UNAVAILABLE",
        message: expect.stringMatching(/see the gateway log/),
      });
      const health = await client.request("health");
      expect(health.ok).toBe(true);
      await settle(20); // negative window: an unhandled rejection is reported within a turn of the event loop
      expect(unhandled).toEqual([]);
      client.close();
    } finally {
      process.off("unhandledRejection", onUnhandled);
    }
  });

  it("serialises a broadcast payload once, however many clients receive it", async () => {
    gateway = await startGateway();
    const clients = await Promise.all(Array.from({ length: 5 }, () => connect(gateway!.url)));
    const stringify = vi.spyOn(JSON, "stringify");
    const payload = { runId: "r", seq: 0, stream: "assistant", ts: 1, data: { delta: "hello" } };
    expect(gateway.server.broadcast("agent", payload)).toBe(5);
    const payloadCalls = stringify.mock.calls.filter(([value]) => value === payload);
    expect(payloadCalls).toHaveLength(1);
    stringify.mockRestore();
    for (const { client } of clients) {
      const event = await client.waitForEvent("agent");
      expect(event.payload).toEqual(payload);
      client.close();
    }
  });

  it("lets a device stage authenticate before the shared secret, and a pairing stage refuse after it", async () => {
    gateway = await startGateway({
      connectStages: {
        beforeAuth: [
          (context) => {
            if (context.params.auth?.deviceToken === "device-token-1") {
              context.authenticatedBy = "device-token";
              context.deviceId = "device-1";
            }
          },
        ],
        afterAuth: [
          (context) => {
            if (context.params.client.id === "unpaired-app") {
              throw new ConnectRefusal("PAIRING_REQUIRED", "approve this device first", {
                requestId: "req-1",
                reason: "not-paired",
              });
            }
          },
        ],
      },
    });
    const { hello } = await connect(gateway.url, { auth: { deviceToken: "device-token-1" } });
    expect(hello.auth.role).toBe("operator");
    const node = await connect(gateway.url, { role: "node", auth: { deviceToken: "device-token-1" } });
    expect(node.hello.auth).toEqual({ role: "node", scopes: [] });
    const client = await TestClient.open(gateway.url);
    await client.waitForEvent("connect.challenge");
    const refused = await client.request(
      "connect",
      connectParams({ client: { id: "unpaired-app", version: "1", platform: "linux", mode: "ui" } }),
    );
    expect(refused.error).toMatchObject({
      code: "NOT_PAIRED",
      details: { code: "PAIRING_REQUIRED", requestId: "req-1", reason: "not-paired" },
    });
    expect((await client.closed).code).toBe(1008);
    node.client.close();
  });

  it("tells listeners about connections and disconnections", async () => {
    gateway = await startGateway();
    const seen: string[] = [];
    const off = gateway.server.onConnection((info) => seen.push(`+${info.identity.client.id}`));
    gateway.server.onDisconnect((info) => seen.push(`-${info.identity.client.id}`));
    const { client } = await connect(gateway.url);
    client.close();
    await until(() => seen.length === 2, { message: "the disconnection seen" });
    off();
    const again = await connect(gateway.url);
    again.client.close();
    // A "+test" here would be the removed listener still called: it comes before the "-test" awaited.
    await until(() => seen.length >= 3, { message: "the second disconnection seen" });
    expect(seen).toEqual(["+test", "-test", "-test"]);
  });

  it("starts services after listen and reports readiness", async () => {
    gateway = await startGateway();
    const started: string[] = [];
    gateway.server.registerService({ name: "late", start: () => void started.push("late"), stop() {} });
    await until(() => started.length > 0, { message: "the late service started" });
    expect(started).toEqual(["late"]);
    const ready = await fetch(`http://127.0.0.1:${gateway.port}/readyz`);
    expect(ready.status).toBe(200);
  });
});
