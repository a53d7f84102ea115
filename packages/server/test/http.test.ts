import { skipUnlessAvailable } from "@gateway/vitest-preset/wait";
import { afterEach, describe, expect, it } from "vitest";
import { connect, startGateway, type TestGateway, TOKEN } from "./helpers.js";

let gateway: TestGateway | undefined;
afterEach(async () => {
  await gateway?.stop();
  gateway = undefined;
});

const http = (gatewayUnderTest: TestGateway, path: string, headers: Record<string, string> = {}) =>
  fetch(`http://127.0.0.1:${gatewayUnderTest.port}${path}`, { headers });

describe("HTTP routes on the same port", () => {
  it("serves /healthz without auth and /readyz while serving", async () => {
    gateway = await startGateway();
    const live = await http(gateway, "/healthz");
    expect(live.status).toBe(200);
    expect(await live.json()).toMatchObject({ ok: true });
    const ready = await http(gateway, "/readyz");
    expect(ready.status).toBe(200);
    const root = await http(gateway, "/");
    expect(await root.text()).toMatch(/Connect a WebSocket client/);
  });

  it("puts /metrics behind auth and exposes the gateway's figures", async () => {
    gateway = await startGateway();
    expect((await http(gateway, "/metrics")).status).toBe(401);
    expect((await http(gateway, "/metrics", { authorization: "Bearer wrong" })).status).toBe(401);
    const { client } = await connect(gateway.url);
    await client.request("health");
    await client.request("nope");
    const response = await http(gateway, "/metrics", { authorization: `Bearer ${TOKEN}` });
    expect(response.status).toBe(200);
    const text = await response.text();
    expect(text).toMatch(/^gateway_connections 1$/m);
    expect(text).toMatch(/gateway_requests_total\{method="health",outcome="ok"\} 1/);
    expect(text).toMatch(/gateway_requests_total\{method="unknown",outcome="INVALID_REQUEST"\} 1/);
    expect(text).toMatch(/gateway_request_duration_seconds_bucket\{le="0.005",method="health"\}/);
    expect(text).toMatch(/gateway_auth_failures_total\{reason="metrics"\} 2/);
    expect(text).toMatch(/gateway_events_sent_total/);
    expect(text).toMatch(/gateway_slow_consumer_closes_total 0/);
    expect(text).toMatch(/gateway_process_resident_memory_bytes \d+/);
    client.close();
  });

  it("serves /metrics publicly when configured", async () => {
    gateway = await startGateway({ metricsPublic: true });
    expect((await http(gateway, "/metrics")).status).toBe(200);
  });
});

describe("HTTP bearer auth is rate limited like the WebSocket", () => {
  it("a brute force from a browser Origin on loopback gets 429, and locks out that client only", async () => {
    gateway = await startGateway({ authMaxFailures: 5, authLockoutMs: 60_000 });
    const origin = "http://evil.example";
    const statuses: number[] = [];
    for (let attempt = 0; attempt < 20; attempt++)
      statuses.push((await http(gateway, "/metrics", { origin, authorization: `Bearer guess-${attempt}` })).status);
    expect(statuses.slice(0, 5)).toEqual([401, 401, 401, 401, 401]);
    expect(statuses.slice(5).every((status) => status === 429)).toBe(true);
    const locked = await http(gateway, "/metrics", { origin, authorization: `Bearer ${TOKEN}` });
    expect(locked.status).toBe(429);
    expect(Number(locked.headers.get("retry-after"))).toBeGreaterThan(50);
    // The same client on the WebSocket is locked out too; the local CLI (no Origin) and another origin are not.
    expect((await http(gateway, "/metrics", { authorization: `Bearer ${TOKEN}` })).status).toBe(200);
    const other = await http(gateway, "/metrics", {
      origin: "http://another.example",
      authorization: `Bearer ${TOKEN}`,
    });
    expect(other.status).toBe(200);
  });

  it("from another address (a LAN bind), wrong tokens are locked out after the limit", async (context) => {
    const { networkInterfaces } = await import("node:os");
    const lan = Object.values(networkInterfaces())
      .flat()
      .find((entry) => entry && entry.family === "IPv4" && !entry.internal)?.address;
    skipUnlessAvailable(lan !== undefined, "a non-loopback IPv4 address", () => context.skip());
    gateway = await startGateway({ host: "0.0.0.0", authMaxFailures: 3, authLockoutMs: 60_000 });
    const statuses: number[] = [];
    for (let attempt = 0; attempt < 10; attempt++) {
      const response = await fetch(`http://${lan!}:${gateway.port}/metrics`, {
        headers: { authorization: `Bearer guess-${attempt}` },
      });
      statuses.push(response.status);
    }
    expect(statuses).toEqual([401, 401, 401, 429, 429, 429, 429, 429, 429, 429]);
  });
});
