import { eventually, until } from "@gateway/vitest-preset/wait";
import { Type } from "@sinclair/typebox";
import { afterEach, describe, expect, it } from "vitest";
import { WebSocketServer } from "ws";
import { createGatewayServer } from "../../server/src/index.js";
import { createGatewayClient, type GatewayClient, GatewayClientError } from "../src/index.js";

const TOKEN = "client-test-token-0123456789";
const cleanups: Array<() => unknown> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function gateway(options: Parameters<typeof createGatewayServer>[0] = {}) {
  const server = createGatewayServer({
    port: 0,
    auth: { mode: "token", token: TOKEN },
    logging: { level: "silent", stdout: false, file: false },
    shutdownTimeoutMs: 200, // tests leave hanging requests behind on purpose
    ...options,
  });
  const address = await server.listen();
  cleanups.push(() => server.close());
  return { server, url: address.url };
}

function client(url: string, options: Partial<Parameters<typeof createGatewayClient>[0]> = {}): GatewayClient {
  const created = createGatewayClient({
    url,
    token: TOKEN,
    reconnect: { initialDelayMs: 20, maxDelayMs: 200 },
    ...options,
  });
  cleanups.push(() => created.close());
  return created;
}

/** Simulated work in a handler (the only fixed waits in this file). */
const work = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe("@gateway/client against a real gateway", () => {
  it("connects, exposes hello-ok, and types requests and results", async () => {
    const { url } = await gateway();
    const gatewayClient = client(url);
    const hello = await gatewayClient.ready();
    expect(hello.protocol).toBe(4);
    expect(gatewayClient.state).toBe("open");
    const health = await gatewayClient.request("health");
    expect(health.gateway.connections.total).toBe(1); // typed: MethodResult<"health">
    const presence = await gatewayClient.request("system-presence");
    expect(Array.isArray(presence)).toBe(true);
  });

  it("delivers typed events and every event to '*'", async () => {
    const { server, url } = await gateway();
    const gatewayClient = client(url);
    await gatewayClient.ready();
    const statuses: string[] = [];
    const all: string[] = [];
    gatewayClient.on("heartbeat", (payload) => statuses.push(payload.status));
    gatewayClient.on("*", (_payload, event) => all.push(event));
    server.broadcast("heartbeat", { ts: Date.now(), status: "ok-token" });
    await eventually(() => expect(statuses).toEqual(["ok-token"]));
    expect(all).toContain("heartbeat");
  });

  it("surfaces refused connects with details.code and a sentence saying what to do", async () => {
    const { url } = await gateway();
    const refused = createGatewayClient({ url, token: "wrong-token", reconnect: false });
    const error = await refused.ready().catch((reason: unknown) => reason);
    expect(GatewayClientError.isInstance(error)).toBe(true);
    expect(error).toMatchObject({ detailCode: "AUTH_TOKEN_MISMATCH", retryable: false });
    expect((error as Error).message).toMatch(/gateway config path/);
    expect(refused.state).toBe("closed");
    await expect(refused.request("health")).rejects.toMatchObject({ detailCode: "AUTH_TOKEN_MISMATCH" });
  });

  it("says how to start an unreachable gateway", async () => {
    const { server, url } = await gateway();
    await server.close();
    const lonely = createGatewayClient({ url, token: TOKEN, reconnect: false });
    await expect(lonely.ready()).rejects.toMatchObject({
      code: "UNREACHABLE",
      message: expect.stringMatching(/not reachable at ws:\/\/127\.0\.0\.1:\d+ — start it with `gateway run`/),
    });
  });

  it("times out a request that gets no answer", async () => {
    const { server, url } = await gateway({ requestTimeoutMs: 60_000 });
    server.registerMethod("test.hang", () => new Promise(() => {}), {
      params: Type.Object({}),
      scope: "operator.read",
    });
    const gatewayClient = client(url);
    await expect(gatewayClient.call("test.hang", {}, { timeoutMs: 100 })).rejects.toMatchObject({
      code: "TIMEOUT",
      retryable: true,
    });
  });

  it("reconnects after the gateway restarts its listener, and keeps working", async () => {
    const { server, url } = await gateway();
    const states: string[] = [];
    const gatewayClient = client(url, { onStateChange: (state) => states.push(state) });
    const before = await gatewayClient.ready();
    await server.restartListener({ port: server.address!.port }, 50);
    // ready() answers the current connection's hello: wait until the client has seen the old one go.
    await until(() => states.includes("reconnecting"), { message: "the client to notice the restart" });
    const hello = await gatewayClient.ready();
    expect(hello.server.connId).not.toBe(before.server.connId);
    expect((await gatewayClient.request("health")).gateway.connections.total).toBe(1);
    expect(states).toEqual(expect.arrayContaining(["open", "reconnecting"]));
  });

  it("generates an idempotencyKey and reuses it when a request is retried after a disconnect", async () => {
    const { server, url } = await gateway({ shutdownTimeoutMs: 30 });
    const keys: string[] = [];
    let restarted = false;
    server.registerMethod("send", async (params) => {
      keys.push(params.idempotencyKey);
      if (!restarted) {
        restarted = true;
        void server.restartListener({ port: server.address!.port }, 30); // drops every connection mid-call
      }
      await work(150); // still running when the connection drops
      return { ok: true as const, channel: "test", accountId: "default", to: params.to, messageId: "m-1" };
    });
    const gatewayClient = client(url);
    await gatewayClient.ready();
    const result = await gatewayClient.request("send", { to: "+1555", message: "hello" });
    expect(result.messageId).toBe("m-1");
    expect(keys).toHaveLength(1); // the retry joined the first execution through the server's idempotency cache
    expect(keys[0]).toMatch(/^[0-9a-f-]{36}$/);
  });

  it("exposes two-phase agent runs as onAccepted plus a promise of the final result", async () => {
    const { server, url } = await gateway();
    server.registerMethod("agent", async (params, context) => {
      context.accept({ runId: "run-7", status: "accepted", acceptedAt: 1 });
      await work(30);
      return { runId: "run-7", status: "ok" as const, summary: `echo: ${params.message}` };
    });
    const gatewayClient = client(url);
    const accepted: string[] = [];
    const final = await gatewayClient.agent({ message: "hi" }, { onAccepted: (ack) => accepted.push(ack.runId) });
    expect(accepted).toEqual(["run-7"]);
    expect(final).toEqual({ runId: "run-7", status: "ok", summary: "echo: hi" });
  });

  it("fails pending requests on close()", async () => {
    const { server, url } = await gateway();
    server.registerMethod("test.slow", () => work(500).then(() => ({})), {
      params: Type.Object({}),
      scope: "operator.read",
    });
    const gatewayClient = client(url);
    await gatewayClient.ready();
    const pending = gatewayClient.call("test.slow", {});
    gatewayClient.close();
    await expect(pending).rejects.toMatchObject({ code: "CLOSED" });
    expect(gatewayClient.state).toBe("closed");
  });
});

describe("@gateway/client against a scripted server", () => {
  async function scripted(onConnect: (socket: import("ws").WebSocket) => void, tickIntervalMs = 30_000) {
    const wss = new WebSocketServer({ port: 0, host: "127.0.0.1" });
    await new Promise((resolve) => wss.once("listening", resolve));
    cleanups.push(() => new Promise((resolve) => wss.close(resolve)));
    const closes: number[] = [];
    wss.on("connection", (socket) => {
      socket.on("close", (code) => closes.push(code));
      socket.send(JSON.stringify({ type: "event", event: "connect.challenge", payload: { nonce: "n", ts: 1 } }));
      socket.once("message", () => {
        socket.send(
          JSON.stringify({
            type: "res",
            id: "connect",
            ok: true,
            payload: {
              type: "hello-ok",
              protocol: 4,
              server: { version: "x", connId: "c" },
              features: { methods: [], events: [] },
              snapshot: { presence: [], health: { ts: 1 }, stateVersion: { presence: 0, health: 0 }, uptimeMs: 0 },
              auth: { role: "operator", scopes: [] },
              policy: { maxPayload: 1000, maxBufferedBytes: 1000, tickIntervalMs },
            },
          }),
        );
        onConnect(socket);
      });
    });
    return { url: `ws://127.0.0.1:${(wss.address() as { port: number }).port}`, closes };
  }

  it("reports a seq gap so the app can refetch", async () => {
    const { url } = await scripted((socket) => {
      for (const seq of [1, 2, 5])
        socket.send(JSON.stringify({ type: "event", event: "tick", payload: { ts: seq }, seq }));
    });
    const gaps: Array<{ expected: number; received: number }> = [];
    const gatewayClient = client(url, { onGap: (gap) => gaps.push(gap) });
    await gatewayClient.ready();
    await eventually(() => expect(gaps).toEqual([{ expected: 3, received: 5 }]));
  });

  it("closes with 4000 after two silent tick intervals, then reconnects", async () => {
    let connections = 0;
    const { url, closes } = await scripted(() => {
      connections++;
    }, 40);
    const gatewayClient = client(url);
    await gatewayClient.ready();
    await until(() => closes.includes(4000), { message: "the client to close the silent connection with 4000" });
    await until(() => connections >= 2, { message: "the client to connect again" });
    expect(closes[0]).toBe(4000);
  });
});
