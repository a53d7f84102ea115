import { until } from "@gateway/vitest-preset/wait";
import { afterEach, describe, expect, it } from "vitest";
import { connect, startGateway, type TestClient, type TestGateway } from "./helpers.js";

let gateway: TestGateway | undefined;
afterEach(async () => {
  await gateway?.stop();
  gateway = undefined;
});

const eventsOf = (client: TestClient, name: string) =>
  client.frames.filter((frame) => frame.type === "event" && frame.event === name);

describe("events", () => {
  it("numbers events per connection with a monotonic seq", async () => {
    gateway = await startGateway();
    const a = await connect(gateway.url);
    for (let index = 0; index < 5; index++) gateway.server.broadcast("heartbeat", { ts: Date.now(), status: "sent" });
    const b = await connect(gateway.url);
    for (let index = 0; index < 5; index++) gateway.server.broadcast("heartbeat", { ts: Date.now(), status: "sent" });
    await a.client.waitFor(() => eventsOf(a.client, "heartbeat").length === 10);
    await b.client.waitFor(() => eventsOf(b.client, "heartbeat").length === 5);
    for (const client of [a.client, b.client]) {
      const seqs = client.frames
        .filter((frame) => frame.type === "event" && frame.seq !== undefined)
        .map((frame) => frame.seq!);
      expect(seqs).toEqual(seqs.map((_, index) => seqs[0]! + index));
    }
    expect(eventsOf(b.client, "heartbeat")[0]!.seq).toBe(1);
    a.client.close();
    b.client.close();
  });

  it("sends tick every tickIntervalMs", async () => {
    gateway = await startGateway({ tickIntervalMs: 40 });
    const { client, hello } = await connect(gateway.url);
    expect(hello.policy.tickIntervalMs).toBe(40);
    await client.waitFor(() => eventsOf(client, "tick").length >= 3);
    expect(eventsOf(client, "tick")[0]!.payload.ts).toBeTypeOf("number");
    client.close();
  });

  it("delivers agent events only to connections with operator.read", async () => {
    gateway = await startGateway();
    const reader = await connect(gateway.url, { scopes: ["operator.read"] });
    const pairer = await connect(gateway.url, { scopes: ["operator.pairing"] });
    const event = { runId: "r1", seq: 0, stream: "assistant", ts: Date.now(), data: { delta: "hi" } };
    expect(gateway.server.broadcast("agent", event)).toBe(1);
    gateway.server.broadcast("tick", { ts: Date.now() });
    await reader.client.waitForEvent("agent");
    await pairer.client.waitForEvent("tick");
    expect(eventsOf(pairer.client, "agent")).toEqual([]);
    reader.client.close();
    pairer.client.close();
  });

  it("keeps presence with stateVersion bumps and expires it after the TTL", async () => {
    gateway = await startGateway({ presenceTtlMs: 300 });
    // A UI shows presence, so it gets the changes (a client in another mode gets them once it asks for the list).
    const watcher = await connect(gateway.url, {
      client: { id: "test", version: "1", platform: "web", mode: "ui" },
    });
    const before = watcher.hello.snapshot.stateVersion.presence;
    const phone = await connect(gateway.url, {
      client: { id: "test", version: "1", platform: "ios", mode: "ui", instanceId: "phone-1" },
    });
    const joined = await watcher.client.waitFor(
      (frame) =>
        frame.event === "presence" && frame.payload.presence.some((entry: any) => entry.instanceId === "phone-1"),
    );
    expect(joined.stateVersion!.presence).toBeGreaterThan(before);
    phone.client.close();
    const expired = await watcher.client.waitFor(
      (frame) =>
        frame.event === "presence" && !frame.payload.presence.some((entry: any) => entry.instanceId === "phone-1"),
    );
    expect(expired.stateVersion!.presence).toBeGreaterThan(joined.stateVersion!.presence);
    const list = await watcher.client.request("system-presence");
    expect(list.payload.some((entry: any) => entry.instanceId === "phone-1")).toBe(false);
    expect(list.payload.some((entry: any) => entry.mode === "gateway")).toBe(true);
    watcher.client.close();
  });

  it("presence costs O(changes): bounded entries, only readers get events, a storm is coalesced", async () => {
    gateway = await startGateway({ presenceMaxEntries: 50, presenceBytesPerSecond: 64 * 1024 });
    const ui = await connect(gateway.url, { client: { id: "ui", version: "1", platform: "web", mode: "ui" } });
    const backend = await connect(gateway.url, {
      client: { id: "svc", version: "1", platform: "linux", mode: "backend", instanceId: "svc-0" },
    });
    // A client that does not show presence gets only the gateway's own entry in its snapshot.
    expect(backend.hello.snapshot.presence.map((entry: any) => entry.mode)).toEqual(["gateway"]);
    const storm = await Promise.all(
      Array.from({ length: 150 }, (_, index) =>
        connect(gateway!.url, {
          client: {
            id: "svc",
            version: "1",
            platform: "linux",
            mode: index % 3 === 0 ? "cli" : "backend",
            instanceId: `Instance-${index}`,
            displayName: "x".repeat(60_000),
          },
        }),
      ),
    );
    await until(async () => {
      const list = (await ui.client.request("system-presence")).payload as any[];
      return list.some((entry) => entry.instanceId === "Instance-149");
    });
    const list = (await ui.client.request("system-presence")).payload as any[];
    expect(list.length).toBeLessThanOrEqual(50);
    expect(list.every((entry) => (entry.host ?? "").length <= 256)).toBe(true);
    // One-off CLI commands are not instances.
    expect(list.some((entry) => entry.instanceId === "Instance-0")).toBe(false);
    // The list can answer before the coalesced change goes out (it is sent on a timer): wait for it.
    await until(() => ui.client.frames.some((frame) => frame.event === "presence"));
    const events = ui.client.frames.filter((frame) => frame.event === "presence");
    expect(events.length).toBeLessThan(10);
    expect(eventsOf(backend.client, "presence")).toEqual([]);
    // Asking for the list makes a client a reader.
    await backend.client.request("system-presence");
    storm[1]!.client.close();
    await backend.client.waitForEvent("presence");
    for (const { client } of [ui, backend, ...storm]) client.close();
  }, 20_000);

  it("the entry of a client that disconnected cleanly goes soon; keys are case-insensitive", async () => {
    gateway = await startGateway({ presenceDepartedTtlMs: 100 });
    const ui = await connect(gateway.url, { client: { id: "ui", version: "1", platform: "web", mode: "ui" } });
    const phone = await connect(gateway.url, {
      client: { id: "app", version: "1", platform: "ios", mode: "ui", instanceId: "Phone-1" },
    });
    await phone.client.request("system-event", { text: "beacon", instanceId: "PHONE-1" });
    const ids = ((await ui.client.request("system-presence")).payload as any[]).map((entry) => entry.instanceId);
    expect(ids.filter((id: string) => id.toLowerCase() === "phone-1")).toHaveLength(1);
    phone.client.close();
    await until(async () => {
      const list = (await ui.client.request("system-presence")).payload as any[];
      return !list.some((entry) => entry.instanceId.toLowerCase() === "phone-1");
    });
    ui.client.close();
  });

  it("refreshes health periodically and on demand, bumping stateVersion.health", async () => {
    gateway = await startGateway({ healthIntervalMs: 50 });
    gateway.server.contributeHealth("channels", () => ({
      channelOrder: ["telegram"],
      channelLabels: { telegram: "Telegram" },
    }));
    const { client, hello } = await connect(gateway.url);
    const first = await client.waitForEvent("health");
    expect(first.stateVersion!.health).toBeGreaterThan(hello.snapshot.stateVersion.health);
    expect(first.payload).toMatchObject({ channelOrder: ["telegram"], eventLoop: { reasons: expect.any(Array) } });
    const manual = gateway.server.refreshHealth();
    // `ok` is present exactly when the event loop is not degraded (the reference allows only `true`).
    expect(manual.ok).toBe(manual.eventLoop!.degraded ? undefined : true);
    const later = await client.waitFor(
      (frame) => frame.event === "health" && frame.stateVersion!.health > first.stateVersion!.health,
    );
    expect(later.payload.ts).toBeGreaterThanOrEqual(first.payload.ts);
    client.close();
  });

  it("closes a client that never reads without slowing the others", async () => {
    gateway = await startGateway({ maxBufferedBytes: 256 * 1024, slowThresholdBytes: 64 * 1024 });
    const stuck = await connect(gateway.url);
    const healthy = await connect(gateway.url);
    // The stuck client stops reading from its socket: the server's backlog for it grows.
    (stuck.client.socket as any)._socket.pause();
    const payload = { runId: "r", seq: 0, stream: "assistant", ts: 0, data: { text: "x".repeat(32 * 1024) } };
    const total = 640; // ~20 MB, far more than the kernel buffers of the stuck socket hold
    // Batches of 5 (160 KB) stay under the healthy client's limit even if it reads nothing in between.
    for (let index = 0; index < total; index++) {
      gateway.server.broadcast("agent", { ...payload, seq: index });
      if (index % 5 === 4) await healthy.client.waitFor(() => eventsOf(healthy.client, "agent").length === index + 1);
    }
    await healthy.client.waitFor(() => eventsOf(healthy.client, "agent").length === total, 15_000);
    const received = eventsOf(healthy.client, "agent").map((frame) => frame.payload.seq);
    expect(received).toEqual(Array.from({ length: total }, (_, index) => index));
    const metrics = await gateway.server.metrics.render();
    expect(metrics).toMatch(/gateway_slow_consumer_closes_total 1/);
    await until(() => gateway!.server.connectionCount === 1, { message: "the stuck client's connection gone" });
    healthy.client.close();
  }, 30_000);

  it("skips drop-if-slow events for a client that is behind, leaving a seq gap", async () => {
    gateway = await startGateway({ maxBufferedBytes: 64 * 1024 * 1024, slowThresholdBytes: 16 * 1024 });
    const slow = await connect(gateway.url);
    (slow.client.socket as any)._socket.pause();
    const big = { runId: "r", seq: 0, stream: "assistant", ts: 0, data: { text: "y".repeat(64 * 1024) } };
    for (let index = 0; index < 200; index++) gateway.server.broadcast("agent", { ...big, seq: index });
    const sentBefore = Number(
      /gateway_events_dropped_total\{event="tick"\} (\d+)/.exec(await gateway.server.metrics.render())?.[1] ?? 0,
    );
    gateway.server.broadcast("tick", { ts: Date.now() });
    const metrics = await gateway.server.metrics.render();
    expect(Number(/gateway_events_dropped_total\{event="tick"\} (\d+)/.exec(metrics)?.[1])).toBe(sentBefore + 1);
    (slow.client.socket as any)._socket.resume();
    gateway.server.broadcast("heartbeat", { ts: Date.now(), status: "sent" });
    const heartbeat = await slow.client.waitForEvent("heartbeat");
    const lastAgent = eventsOf(slow.client, "agent").at(-1)!;
    expect(heartbeat.seq! - lastAgent.seq!).toBe(2); // the dropped tick left a gap
    slow.client.close();
  }, 30_000);
});
