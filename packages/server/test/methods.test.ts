import { readFileSync } from "node:fs";
import { join } from "node:path";
import { HealthResult, StatusResult, validate } from "@gateway/protocol";
import { eventually, until } from "@gateway/vitest-preset/wait";
import { Type } from "@sinclair/typebox";
import { afterEach, describe, expect, it } from "vitest";
import { ProtocolError } from "../src/index.js";
import { connect, sleep, startGateway, type TestGateway } from "./helpers.js";

let gateway: TestGateway | undefined;
afterEach(async () => {
  await gateway?.stop();
  gateway = undefined;
});

describe("methods", () => {
  it("answers health and status with their schemas, and says what is missing", async () => {
    gateway = await startGateway({ auth: { mode: "none" } });
    gateway.server.addWarnings(() => ["no model configured — set models.providers"]);
    const { client } = await connect(gateway.url);
    const health = await client.request("health");
    expect(validate(HealthResult, health.payload).ok).toBe(true);
    expect(health.payload.gateway).toMatchObject({ version: "9.9.9-test", connections: { total: 1, operators: 1 } });
    expect(health.payload.gateway.memory.rssBytes).toBeGreaterThan(0);
    const status = await client.request("status");
    expect(validate(StatusResult, status.payload).ok).toBe(true);
    expect(status.payload.warnings).toEqual([
      "auth is off (allowed on loopback only): set gateway.auth.mode to token",
      "no model configured — set models.providers",
    ]);
    expect(status.payload.listen.port).toBe(gateway.port);
    client.close();
  });

  it("answers an unknown method with INVALID_REQUEST", async () => {
    gateway = await startGateway();
    const { client } = await connect(gateway.url);
    const response = await client.request("no.such.method", {});
    expect(response.error).toMatchObject({ code: "INVALID_REQUEST", message: "unknown method: no.such.method" });
    // a core method whose package is not loaded is unknown too
    expect((await client.request("cron.list", {})).error?.code).toBe("INVALID_REQUEST");
    client.close();
  });

  it("validates every core method's params before the handler runs", async () => {
    gateway = await startGateway();
    const { client } = await connect(gateway.url);
    const cases: Array<[string, unknown, RegExp]> = [
      ["system-event", {}, /params\/text/],
      ["system-event", { text: 5 }, /params\/text/],
      ["logs.tail", { limit: "ten" }, /params\/limit/],
      ["logs.tail", { cursor: -1 }, /params\/cursor/],
      ["health", "not an object", /params/],
      ["status", [1, 2], /params/],
      ["system-presence", 7, /params/],
    ];
    for (const [method, params, message] of cases) {
      const response = await client.request(method, params);
      expect(response.ok, method).toBe(false);
      expect(response.error?.code, method).toBe("INVALID_REQUEST");
      expect(response.error?.message, method).toMatch(message);
    }
    client.close();
  });

  it("enforces scopes on every method", async () => {
    gateway = await startGateway();
    const { client } = await connect(gateway.url, { scopes: ["operator.read"] });
    expect((await client.request("health")).ok).toBe(true);
    const forbidden = await client.request("system-event", { text: "hi" });
    expect(forbidden.error).toMatchObject({ code: "FORBIDDEN", details: { missingScope: "operator.admin" } });
    const pairingOnly = await connect(gateway.url, { scopes: ["operator.pairing"] });
    expect((await pairingOnly.client.request("health")).error?.code).toBe("FORBIDDEN");
    client.close();
    pairingOnly.client.close();
  });

  it("turns a handler that throws into UNAVAILABLE with a safe message, logged with the request id", async () => {
    gateway = await startGateway();
    gateway.server.registerMethod(
      "test.explode",
      () => {
        throw new Error("secret database password is hunter2");
      },
      { params: Type.Object({}), scope: "operator.read" },
    );
    gateway.server.registerMethod(
      "test.refuse",
      () => {
        throw new ProtocolError("NOT_LINKED", "link the account first");
      },
      { params: Type.Object({}), scope: "operator.read" },
    );
    const { client } = await connect(gateway.url);
    const exploded = await client.request("test.explode", {});
    expect(exploded.error?.code).toBe("UNAVAILABLE");
    expect(exploded.error?.message).not.toMatch(/hunter2|at /);
    expect(exploded.error?.message).toMatch(/see the gateway log/);
    expect((await client.request("test.refuse", {})).error).toMatchObject({
      code: "NOT_LINKED",
      message: "link the account first",
    });
    // The log file is written asynchronously.
    const line = await eventually(() => {
      const log = readFileSync(join(gateway!.stateDir, "logs", "gateway.log"), "utf8");
      const found = log.split("\n").find((entry) => entry.includes("test.explode failed"));
      expect(found).toBeDefined();
      return found!;
    });
    expect(JSON.parse(line)).toMatchObject({ method: "test.explode", requestId: exploded.id });
    client.close();
  });

  it("times out a handler that never answers", async () => {
    gateway = await startGateway({ requestTimeoutMs: 100 });
    let aborted = false;
    gateway.server.registerMethod(
      "test.hang",
      (_params, context) =>
        new Promise(() => {
          context.signal.addEventListener("abort", () => {
            aborted = true;
          });
        }),
      { params: Type.Object({}), scope: "operator.read" },
    );
    const { client } = await connect(gateway.url);
    const response = await client.request("test.hang", {});
    expect(response.error).toMatchObject({
      code: "UNAVAILABLE",
      retryable: true,
      message: expect.stringMatching(/100 ms/),
    });
    expect(aborted).toBe(true);
    client.close();
  });

  it("answers two-phase methods twice under the same id", async () => {
    gateway = await startGateway();
    gateway.server.registerMethod("agent", async (params, context) => {
      context.accept({ runId: "run-1", status: "accepted", acceptedAt: Date.now() });
      await sleep(20); // simulated work between the two answers
      return { runId: "run-1", status: "ok" as const, summary: `echo: ${params.message}` };
    });
    const { client } = await connect(gateway.url);
    const first = await client.request("agent", { message: "hi", idempotencyKey: "k1" });
    expect(first.payload).toMatchObject({ status: "accepted", runId: "run-1" });
    await client.waitFor((frame) => frame.type === "res" && frame.id === first.id && frame.payload?.status === "ok");
    expect(client.responses(first.id!).map((frame) => frame.payload.status)).toEqual(["accepted", "ok"]);
    client.close();
  });

  describe("idempotency", () => {
    const sendParams = (key: string) => ({ to: "+1555", message: "hi", idempotencyKey: key });

    it("returns the first result on retry and runs concurrent duplicates once", async () => {
      gateway = await startGateway();
      let calls = 0;
      gateway.server.registerMethod("send", async (params) => {
        calls++;
        await sleep(50); // simulated work: the duplicate arrives while this runs
        return { ok: true as const, channel: "test", accountId: "default", to: params.to, messageId: `m-${calls}` };
      });
      const { client } = await connect(gateway.url);
      const [a, b] = await Promise.all([
        client.request("send", sendParams("k")),
        client.request("send", sendParams("k")),
      ]);
      expect(calls).toBe(1);
      expect(a.payload.messageId).toBe("m-1");
      expect(b.payload).toEqual(a.payload);
      const retry = await client.request("send", sendParams("k"));
      expect(retry.payload.messageId).toBe("m-1");
      const other = await client.request("send", sendParams("other"));
      expect(other.payload.messageId).toBe("m-2");
      // A second client with the same key gets the same result too (the key is global per method).
      const second = await connect(gateway.url);
      expect((await second.client.request("send", sendParams("k"))).payload.messageId).toBe("m-1");
      expect(calls).toBe(2);
      client.close();
      second.client.close();
    });

    it("forgets results after the TTL and does not remember failures", async () => {
      gateway = await startGateway({ idempotencyTtlMs: 100 });
      let calls = 0;
      gateway.server.registerMethod("send", (params) => {
        calls++;
        if (params.message === "fail" && calls === 1)
          throw new ProtocolError("UNAVAILABLE", "platform down", { retryable: true });
        return { ok: true as const, channel: "test", accountId: "default", to: params.to, messageId: `m-${calls}` };
      });
      const { client } = await connect(gateway.url);
      expect((await client.request("send", { ...sendParams("f"), message: "fail" })).error?.code).toBe("UNAVAILABLE");
      expect((await client.request("send", { ...sendParams("f"), message: "fail" })).payload.messageId).toBe("m-2");
      expect((await client.request("send", sendParams("t"))).payload.messageId).toBe("m-3");
      // Within the 100 ms TTL a retry gets m-3 again (and runs nothing); once it has passed, the send runs anew.
      await eventually(async () =>
        expect((await client.request("send", sendParams("t"))).payload.messageId).toBe("m-4"),
      );
      expect(calls).toBe(4);
      client.close();
    });

    it("answers in_flight for chat.send retries while the first runs", async () => {
      gateway = await startGateway();
      let running = false;
      gateway.server.registerMethod(
        "chat.send",
        async () => {
          running = true;
          await sleep(100); // simulated work: the retry arrives while this runs
          return { runId: "run-9", status: "started" as const };
        },
        { inFlightResult: () => ({ runId: "pending", status: "in_flight" as const }) },
      );
      const { client } = await connect(gateway.url);
      const params = { sessionKey: "agent:main:main", message: "hi", idempotencyKey: "c1" };
      const first = client.request("chat.send", params);
      await until(() => running, { message: "the first chat.send running" });
      expect((await client.request("chat.send", params)).payload.status).toBe("in_flight");
      expect((await first).payload).toEqual({ runId: "run-9", status: "started" });
      expect((await client.request("chat.send", params)).payload.runId).toBe("run-9");
      client.close();
    });

    it("requires the idempotencyKey of side-effecting methods", async () => {
      gateway = await startGateway();
      gateway.server.registerMethod("send", () => ({
        ok: true as const,
        channel: "c",
        accountId: "a",
        to: "t",
        messageId: "m",
      }));
      const { client } = await connect(gateway.url);
      const response = await client.request("send", { to: "+1555", message: "hi" });
      expect(response.error?.message).toMatch(/idempotencyKey/);
      client.close();
    });
  });

  it("queues system events for the main session and updates the caller's presence", async () => {
    gateway = await startGateway();
    const seen: string[] = [];
    gateway.server.onSystemEvent((event) => seen.push(event.text));
    const { client } = await connect(gateway.url, {
      client: { id: "cli", version: "1", platform: "linux", mode: "cli", instanceId: "laptop-1" },
    });
    expect((await client.request("system-event", { text: "build finished", host: "laptop" })).payload).toEqual({
      ok: true,
    });
    expect(seen).toEqual(["build finished"]);
    expect(gateway.server.drainSystemEvents().map((event) => event.text)).toEqual(["build finished"]);
    expect(gateway.server.drainSystemEvents()).toEqual([]);
    const presence = await client.request("system-presence");
    expect(presence.payload.find((entry: { instanceId?: string }) => entry.instanceId === "laptop-1")).toMatchObject({
      text: "build finished",
      host: "laptop",
    });
    client.close();
  });

  it("runs two gateways in one process", async () => {
    gateway = await startGateway();
    const other = await startGateway();
    try {
      const a = await connect(gateway.url);
      const b = await connect(other.url);
      expect(a.hello.server.connId).not.toBe(b.hello.server.connId);
      expect(gateway.server.connectionCount).toBe(1);
      expect(other.server.connectionCount).toBe(1);
      a.client.close();
      b.client.close();
    } finally {
      await other.stop();
    }
  });
});

describe("logs.tail over the wire", () => {
  it("reads the gateway's own log file with a cursor, secrets redacted", async () => {
    gateway = await startGateway();
    gateway.server.logger.info({ token: "super-secret", note: "visible" }, "a log line");
    const { client } = await connect(gateway.url);
    // The log file is written asynchronously: tail until the line is there.
    const first = await eventually(async () => {
      const tail = await client.request("logs.tail", {});
      expect(tail.payload.lines.some((entry: string) => entry.includes("a log line"))).toBe(true);
      return tail;
    });
    expect(first.payload.file).toBe(join(gateway.stateDir, "logs", "gateway.log"));
    const line = first.payload.lines.find((entry: string) => entry.includes("a log line"));
    expect(line).toMatch(/"token":"\[redacted\]"/);
    expect(line).toMatch(/visible/);
    gateway.server.logger.info("after the cursor");
    const next = await eventually(async () => {
      const tail = await client.request("logs.tail", { cursor: first.payload.cursor });
      expect(tail.payload.lines.some((entry: string) => entry.includes("after the cursor"))).toBe(true);
      return tail;
    });
    expect(next.payload.lines.some((entry: string) => entry.includes("a log line"))).toBe(false);
    client.close();
  });
});
