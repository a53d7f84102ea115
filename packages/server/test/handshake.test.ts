import { HelloOk, validate } from "@gateway/protocol";
import { until } from "@gateway/vitest-preset/wait";
import { afterEach, describe, expect, it } from "vitest";
import { loadReferenceSchema, referenceValidators } from "../../protocol/test/reference-schema.js";
import { createGatewayServer } from "../src/index.js";
import { connect, connectParams, httpGet, startGateway, TestClient, type TestGateway, TOKEN } from "./helpers.js";

const reference = referenceValidators(loadReferenceSchema());
let gateway: TestGateway | undefined;
afterEach(async () => {
  await gateway?.stop();
  gateway = undefined;
});

async function refusal(url: string, params: Record<string, unknown>, headers: Record<string, string> = {}) {
  const client = await TestClient.open(url, headers);
  await client.waitForEvent("connect.challenge");
  const response = await client.request("connect", params);
  const closed = await client.closed;
  return { response, closed };
}

describe("handshake", () => {
  it("sends connect.challenge, then hello-ok that matches our schema and the reference's", async () => {
    gateway = await startGateway();
    const client = await TestClient.open(gateway.url);
    const challenge = await client.waitForEvent("connect.challenge");
    expect(challenge.payload.nonce).toMatch(/^[\w-]{16,}$/);
    const response = await client.request(
      "connect",
      connectParams({ client: { id: "cli", version: "1", platform: "linux", mode: "cli", instanceId: "i-1" } }),
    );
    expect(response.ok).toBe(true);
    const hello = response.payload;
    expect(validate(HelloOk, hello).ok).toBe(true);
    const check = reference("HelloOk");
    expect(check(hello) ? [] : check.errors).toEqual([]);
    expect(hello).toMatchObject({
      type: "hello-ok",
      protocol: 4,
      server: { version: "9.9.9-test" },
      auth: { role: "operator", scopes: expect.arrayContaining(["operator.read", "operator.admin"]) },
      policy: { maxPayload: 25 * 1024 * 1024, tickIntervalMs: 30_000 },
      snapshot: { authMode: "token", stateDir: gateway.stateDir },
    });
    expect(hello.features.methods).toEqual(
      expect.arrayContaining(["health", "status", "system-presence", "system-event", "logs.tail"]),
    );
    expect(hello.features.events).toEqual(expect.arrayContaining(["tick", "presence", "health", "shutdown"]));
    expect(hello.snapshot.presence.some((entry: { mode?: string }) => entry.mode === "gateway")).toBe(true);
    client.close();
  });

  it("grants only the scopes asked for", async () => {
    gateway = await startGateway();
    const { client, hello } = await connect(gateway.url, { scopes: ["operator.read", "made.up"] });
    expect(hello.auth.scopes).toEqual(["operator.read"]);
    client.close();
  });

  it("closes 1008 when the first frame is not connect", async () => {
    gateway = await startGateway();
    const client = await TestClient.open(gateway.url);
    client.sendRaw(JSON.stringify({ type: "req", id: "1", method: "health" }));
    const closed = await client.closed;
    expect(closed.code).toBe(1008);
    expect(closed.reason).toMatch(/first frame must be a connect/);
  });

  it("closes 1008 on a binary or non-JSON first frame", async () => {
    gateway = await startGateway();
    const binary = await TestClient.open(gateway.url);
    binary.sendRaw(Buffer.from(JSON.stringify(connectParams())));
    expect(await binary.closed).toMatchObject({ code: 1008, reason: expect.stringMatching(/binary/) });
    const garbage = await TestClient.open(gateway.url);
    garbage.sendRaw("{this is not json");
    expect(await garbage.closed).toMatchObject({ code: 1008, reason: expect.stringMatching(/not valid JSON/) });
  });

  it("refuses a protocol range without 4 and names the supported range", async () => {
    gateway = await startGateway();
    const { response, closed } = await refusal(gateway.url, connectParams({ minProtocol: 5, maxProtocol: 6 }));
    expect(response.ok).toBe(false);
    expect(response.error?.details).toMatchObject({
      code: "PROTOCOL_UNSUPPORTED",
      supportedProtocol: { min: 4, max: 4 },
    });
    expect(response.error?.message).toMatch(/speaks protocol 4/);
    expect(closed.code).toBe(1008);
  });

  it("refuses invalid connect params with the field", async () => {
    gateway = await startGateway();
    const { response, closed } = await refusal(gateway.url, { minProtocol: 4, maxProtocol: 4 });
    expect(response.error).toMatchObject({ code: "INVALID_REQUEST", message: expect.stringMatching(/client/) });
    expect(closed.code).toBe(1008);
  });

  it("refuses a wrong or missing token", async () => {
    gateway = await startGateway();
    const wrong = await refusal(gateway.url, connectParams({ auth: { token: "nope" } }));
    expect(wrong.response.error?.details?.code).toBe("AUTH_TOKEN_MISMATCH");
    expect(wrong.closed.code).toBe(1008);
    const missing = await refusal(gateway.url, connectParams({ auth: {} }));
    expect(missing.response.error?.details?.code).toBe("AUTH_TOKEN_MISSING");
  });

  it("authenticates with a password, and refuses a wrong one", async () => {
    gateway = await startGateway({ auth: { mode: "password", password: "correct horse" } });
    const wrong = await refusal(gateway.url, connectParams({ auth: { password: "battery staple" } }));
    expect(wrong.response.error?.details?.code).toBe("AUTH_PASSWORD_MISMATCH");
    const { client } = await connect(gateway.url, { auth: { password: "correct horse" } });
    expect((await client.request("health")).ok).toBe(true);
    client.close();
  });

  it("rate-limits failed attempts from a browser origin, then locks out with retryAfterMs", async () => {
    const origin = "http://app.example";
    gateway = await startGateway({ allowedOrigins: [origin], authMaxFailures: 3, authLockoutMs: 60_000 });
    const headers = { origin };
    for (let attempt = 0; attempt < 3; attempt++) {
      const { response } = await refusal(gateway.url, connectParams({ auth: { token: "wrong" } }), headers);
      expect(response.error?.details?.code).toBe("AUTH_TOKEN_MISMATCH");
    }
    // Locked out: even the right token is refused without being compared.
    const locked = await refusal(gateway.url, connectParams(), headers);
    expect(locked.response.error?.details?.code).toBe("AUTH_RATE_LIMITED");
    expect(locked.response.error?.retryAfterMs).toBeGreaterThan(50_000);
    expect(locked.response.error?.retryable).toBe(true);
  });

  it("does not lock out a local CLI (loopback, no Origin)", async () => {
    gateway = await startGateway({ authMaxFailures: 2 });
    for (let attempt = 0; attempt < 4; attempt++) {
      const { response } = await refusal(gateway.url, connectParams({ auth: { token: "wrong" } }));
      expect(response.error?.details?.code).toBe("AUTH_TOKEN_MISMATCH");
    }
    const { client } = await connect(gateway.url);
    client.close();
  });

  it("refuses a foreign browser Origin at the upgrade (closed at once, nothing sent) and accepts the gateway's own", async () => {
    gateway = await startGateway();
    const foreign = await TestClient.open(gateway.url, { origin: "http://evil.example" });
    expect(await foreign.closed).toEqual({
      code: 1008,
      reason: "ORIGIN_NOT_ALLOWED: this page's origin is not allowed: add it to gateway.controlUi.allowedOrigins",
    });
    expect(foreign.frames).toEqual([]);
    const { client } = await connect(gateway.url, {}, { origin: `http://127.0.0.1:${gateway.port}` });
    client.close();
    const named = await connect(
      gateway.url,
      {},
      { origin: `http://localhost:${gateway.port}`, host: `localhost:${gateway.port}` },
    );
    named.client.close();
  });

  it("refuses a DNS-rebinding page: its Host and Origin name 127.0.0.1.<attacker> on every request", async () => {
    gateway = await startGateway({ auth: { mode: "none" } });
    const rebound = `127.0.0.1.rebind.example:${gateway.port}`;
    const headers = { host: rebound, origin: `http://${rebound}` };
    await expect(TestClient.open(gateway.url, headers)).rejects.toThrow(/403/);
    // The Host alone is refused too (a page can read plain HTTP answers), with the setting that would allow it.
    for (const path of ["/", "/healthz", "/metrics", "/v1/models"]) {
      const response = await httpGet(gateway.port, path, { host: rebound });
      expect(response.status, path).toBe(403);
      expect(JSON.parse(response.body).error.message).toMatch(/gateway\.allowedHosts/);
    }
    expect((await httpGet(gateway.port, "/healthz", {})).status).toBe(200);
    // Names with a loopback prefix are not loopback.
    for (const name of ["127.0.0.1.nip.example", "localhost.rebind.example", "127.evil"]) {
      await expect(TestClient.open(gateway.url, { host: `${name}:${gateway.port}` })).rejects.toThrow(/403/);
    }
  });

  it("answers to configured names (gateway.allowedHosts, an allowed origin's host)", async () => {
    gateway = await startGateway({ allowedHosts: [".proxy.example"], allowedOrigins: ["https://ui.example"] });
    const proxied = await connect(gateway.url, {}, { host: "gw.proxy.example", origin: "https://gw.proxy.example" });
    proxied.client.close();
    const ui = await connect(gateway.url, {}, { host: "ui.example", origin: "https://ui.example" });
    ui.client.close();
    await expect(TestClient.open(gateway.url, { host: "proxy.example.evil" })).rejects.toThrow(/403/);
  });

  it("with auth none, a browser page gets read access only, even on the gateway's own origin", async () => {
    gateway = await startGateway({ auth: { mode: "none" } });
    const origin = `http://127.0.0.1:${gateway.port}`;
    const { client, hello } = await connect(gateway.url, { auth: undefined, scopes: ["operator.admin"] }, { origin });
    expect(hello.auth.scopes).toEqual([]);
    client.close();
    const reader = await connect(gateway.url, { auth: undefined }, { origin });
    expect(reader.hello.auth.scopes).toEqual(["operator.read"]);
    const patch = await reader.client.request("system-event", { text: "hi" });
    expect(patch.error?.code).toBe("FORBIDDEN");
    reader.client.close();
    // A local process without an Origin is not a page: it keeps what it asks for.
    const local = await connect(gateway.url, { auth: undefined });
    expect(local.hello.auth.scopes).toContain("operator.admin");
    local.client.close();
  });

  it("a browser with auth none gets the scopes gateway.controlUi.authNoneScopes grants", async () => {
    gateway = await startGateway({
      auth: { mode: "none" },
      authNoneBrowserScopes: ["operator.read", "operator.write"],
    });
    const { client, hello } = await connect(
      gateway.url,
      { auth: undefined },
      { origin: `http://127.0.0.1:${gateway.port}` },
    );
    expect(hello.auth.scopes).toEqual(["operator.read", "operator.write"]);
    client.close();
  });

  it("closes a connection that never sends connect", async () => {
    gateway = await startGateway({ handshakeTimeoutMs: 150 });
    const client = await TestClient.open(gateway.url);
    const closed = await client.closed;
    expect(closed).toMatchObject({ code: 1008, reason: expect.stringMatching(/handshake timeout/) });
  });

  it("refuses an oversized frame before the handshake", async () => {
    gateway = await startGateway();
    const client = await TestClient.open(gateway.url);
    await client.waitForEvent("connect.challenge");
    client.sendRaw(JSON.stringify(connectParams({ padding: "x".repeat(70 * 1024) })));
    expect((await client.closed).code).toBe(1009);
  });

  it("caps connections per address that completed the handshake", async () => {
    gateway = await startGateway({ maxConnectionsPerAddress: 2 });
    const first = await connect(gateway.url);
    const second = await connect(gateway.url);
    const third = await TestClient.open(gateway.url);
    expect(await third.closed).toMatchObject({ code: 1008, reason: expect.stringMatching(/too many connections/) });
    first.client.close();
    await first.client.closed;
    await until(() => gateway!.server.connectionCount === 1);
    const fourth = await connect(gateway.url);
    fourth.client.close();
    second.client.close();
  });

  it("300 silent sockets from one address do not keep a real client out: the oldest waiting one is evicted", async () => {
    gateway = await startGateway({ maxPendingPerAddress: 16 });
    const silent = await Promise.all(Array.from({ length: 300 }, () => TestClient.open(gateway!.url)));
    let connected = 0;
    for (let attempt = 0; attempt < 20; attempt++) {
      const { client } = await connect(gateway.url);
      connected++;
      client.close();
    }
    expect(connected).toBe(20);
    const closed = await Promise.all(silent.slice(0, 280).map((client) => client.closed));
    expect(closed.every((close) => close.code === 1008 && /waiting for their handshake/.test(close.reason))).toBe(true);
    for (const client of silent) client.close();
  }, 20_000);

  it("answers a second connect with an error instead of re-authenticating", async () => {
    gateway = await startGateway();
    const { client } = await connect(gateway.url);
    const again = await client.request("connect", connectParams());
    expect(again.error).toMatchObject({ code: "INVALID_REQUEST", message: expect.stringMatching(/already connected/) });
    client.close();
  });

  it("refuses node connections without a device identity", async () => {
    gateway = await startGateway();
    const { response } = await refusal(gateway.url, connectParams({ role: "node" }));
    expect(response.error?.details?.code).toBe("DEVICE_IDENTITY_REQUIRED");
  });

  it("refuses auth mode none unless bound to loopback", () => {
    expect(() => createGatewayServer({ host: "0.0.0.0", auth: { mode: "none" } })).toThrow(/loopback/);
    expect(() => createGatewayServer({ auth: { mode: "token" } })).toThrow(/needs a token/);
  });

  it("lets anyone on loopback in with auth none", async () => {
    gateway = await startGateway({ auth: { mode: "none" } });
    const { client, hello } = await connect(gateway.url, { auth: undefined });
    expect(hello.snapshot.authMode).toBe("none");
    client.close();
    expect(TOKEN).toBeTruthy();
  });
});
