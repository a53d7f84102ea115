// Three gateway processes on one Redis (a redis-server of the test's own, so it can be restarted): a client on one
// instance sees the chat of a turn run on another, in order, its `seq` gap-free, within its scopes; the presence list
// shows the clients of every instance and drops those of a killed one; a Redis restart crashes nothing and fan-out
// resumes.
import { randomUUID } from "node:crypto";
import { existsSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { type FakeOpenAI, startFakeOpenAI } from "@gateway/fakes";
// @ts-expect-error -- a plain .mjs helper of the private vitest preset
import { hasRedisServer, startRedisServer } from "@gateway/vitest-preset/redis";
import { checkAvailable, until } from "@gateway/vitest-preset/wait";
import { Redis } from "ioredis";
import { beforeAll, describe, expect, it } from "vitest";
import type { WebSocket } from "ws";
import { type GatewayProcess, main, onCleanup, rawConnect, startGateway, tempDir } from "./support/gateway-process.js";

const TOKEN = "fleet-events-e2e-token-0123456789";
const prefix = `gateway-test-fleet-events-${randomUUID().slice(0, 8)}:`;
type RedisServer = { url: string; port: number; dir: string; kill(): Promise<void>; stop(): Promise<void> };
let redisServer: RedisServer | undefined;

let fake: FakeOpenAI;

beforeAll(async () => {
  fake = await startFakeOpenAI();
  onCleanup(() => fake.close());
  if (hasRedisServer()) redisServer = await startRedisServer();
  // Cleanups run in reverse: Redis stops after the gateways.
  onCleanup(() => redisServer?.stop());
});

/** An instance of the fleet in its own state dir (the fake model, which echoes unless scripted; no channels). */
async function instance(id: string): Promise<GatewayProcess> {
  const stateDir = tempDir(`gateway-fleet-events-${id}-`);
  writeFileSync(
    join(stateDir, "gateway.json5"),
    `{
      gateway: { auth: { mode: "token", token: "${TOKEN}" } },
      redis: { url: "${redisServer!.url}", keyPrefix: "${prefix}bridge:" },
      fleet: { enabled: true, instanceId: "${id}", leaseMs: 2000, keyPrefix: "${prefix}" },
      models: { providers: { fake: { baseUrl: "${fake.baseUrl}", models: [{ id: "fake-model" }] } } },
      agents: { defaults: { model: "fake/fake-model", backend: "openai" } },
    }`,
  );
  return startGateway(stateDir, { GATEWAY_TOKEN: TOKEN });
}

type Frame = { type: string; event?: string; seq?: number; id?: string; ok?: boolean; payload?: any; error?: unknown };

/** A connected client that records every frame it gets. */
async function client(port: number, scopes: string[], info?: Record<string, string>) {
  const socket: WebSocket = await rawConnect(port, TOKEN, scopes, info);
  onCleanup(() => socket.close());
  const frames: Frame[] = [];
  socket.on("message", (data) => frames.push(JSON.parse(data.toString()) as Frame));
  let next = 0;
  return {
    frames,
    events: (name: string) => frames.filter((frame) => frame.event === name).map((frame) => frame.payload),
    async request(method: string, params: unknown): Promise<any> {
      const id = `r${next++}`;
      socket.send(JSON.stringify({ type: "req", id, method, params }));
      await until(() => frames.some((frame) => frame.id === id), { message: `the answer to ${method}` });
      const answer = frames.find((frame) => frame.id === id)!;
      if (!answer.ok) throw new Error(`${method}: ${JSON.stringify(answer.error)}`);
      return answer.payload;
    },
  };
}

/** `seq` of every event frame a connection got is 1, 2, 3, … */
function expectGapFree(frames: Frame[]): void {
  const seqs = frames.filter((frame) => frame.type === "event" && frame.seq !== undefined).map((frame) => frame.seq);
  expect(seqs.length).toBeGreaterThan(0);
  expect(seqs).toEqual(Array.from({ length: seqs.length }, (_, index) => index + 1));
}

const finalOf = (events: any[], runId: string) =>
  events.find((event) => event.runId === runId && event.state === "final");

describe("events across a fleet of three gateways", () => {
  it("chat of a turn run on b reaches a client on a in order, seq gap-free, within its scopes; Redis restarts", async (context) => {
    if (!checkAvailable(redisServer !== undefined, "redis-server (a Redis of the test's own, to restart it)"))
      return context.skip();
    if (!existsSync(main)) throw new Error("build the app first: npx turbo run build --filter=gateway");
    const [a, b, c] = await Promise.all([instance("a"), instance("b"), instance("c")]);
    const reader = await client(a.port, ["operator.read"]);
    const pairingOnly = await client(a.port, ["operator.pairing"]);
    const onC = await client(c.port, ["operator.read"]);
    const sender = await client(b.port, ["operator.read", "operator.write"]);

    const turn = async (message: string) => {
      const answer = await sender.request("chat.send", {
        sessionKey: "main",
        message,
        idempotencyKey: randomUUID(),
      });
      return answer.runId as string;
    };
    const runId = await turn("hello from b");
    await until(() => finalOf(sender.events("chat"), runId), { message: "the run to finish on b" });
    await until(() => finalOf(reader.events("chat"), runId), { message: "a's client to see the run's final" });
    await until(() => finalOf(onC.events("chat"), runId), { message: "c's client to see the run's final" });

    // The same chat and agent events, in the same order, as the client on the instance that ran the turn.
    const ofRun = (events: any[]) => events.filter((event) => event.runId === runId);
    expect(ofRun(reader.events("chat"))).toEqual(ofRun(sender.events("chat")));
    expect(ofRun(reader.events("agent"))).toEqual(ofRun(sender.events("agent")));
    expect(ofRun(reader.events("agent")).length).toBeGreaterThan(1);
    expect(finalOf(reader.events("chat"), runId).message.content[0].text).toMatch(/hello from b/);
    expectGapFree(reader.frames);
    expectGapFree(onC.frames);
    // chat and agent events need operator.read: not for a client that may only pair.
    expect(pairingOnly.events("chat")).toEqual([]);
    expect(pairingOnly.events("agent")).toEqual([]);
    // Each event reached a once (never echoed back round the fleet).
    expect(reader.events("chat").filter((event) => event.runId === runId && event.state === "final")).toHaveLength(1);

    // What comes from Redis is checked: a payload that is not a chat event is logged and skipped, the next delivered.
    const redis = new Redis(redisServer!.url);
    redis.on("error", () => {}); // Redis is killed further down: this client just waits
    onCleanup(() => redis.disconnect());
    const forged = { runId: "forged", sessionKey: "main", seq: 0, state: "final" };
    const add = (payload: unknown) =>
      redis.xadd(
        `${prefix}events`,
        "*",
        "origin",
        "z",
        "publishedAt",
        String(Date.now()),
        "event",
        "chat",
        "payloadJson",
        JSON.stringify(payload),
      );
    await add({ ...forged, state: "exploded" });
    await add("not even an object");
    await add(forged);
    await until(() => reader.events("chat").some((event) => event.runId === "forged"), { message: "the valid entry" });
    expect(reader.events("chat").filter((event) => event.runId === "forged")).toEqual([forged]);
    await until(() => /fleet events: skipped chat from z: payload/.test(a.output()), {
      message: "the skip in a's log",
    });
    expect(a.child.exitCode).toBeNull();

    // Redis restarts mid-stream: every instance keeps serving its clients; a run going on ends; fan-out resumes when
    // it is back. (A new turn waits for Redis, where the sessions are.)
    fake.script({ kind: "text", chunks: ["while ", "Redis ", "is ", "away"], chunkDelayMs: 150 });
    const during = await turn("a turn Redis goes away in");
    await until(() => sender.events("chat").some((event) => event.runId === during && event.state === "delta"), {
      message: "the run to stream",
    });
    await redisServer!.kill();
    await until(() => finalOf(sender.events("chat"), during), { message: "b to answer with Redis away" });
    await expect(turn("while Redis is away")).rejects.toThrow(/cannot reach Redis|Redis, which does not answer/);
    redisServer = await startRedisServer({ port: redisServer!.port, dir: redisServer!.dir });
    const after = await turn("after the restart");
    await until(() => finalOf(reader.events("chat"), after), {
      timeoutMs: 15_000,
      message: "fan-out to resume after the Redis restart",
    });
    // What b published while Redis was away waited in its backlog and came before.
    expect(finalOf(reader.events("chat"), during)).toBeDefined();
    const order = reader.events("chat").map((event) => event.runId);
    expect(order.lastIndexOf(during)).toBeLessThan(order.indexOf(after));
    expectGapFree(reader.frames);
    for (const gateway of [a, b, c]) expect(gateway.child.exitCode).toBeNull();
  }, 90_000);

  it("presence on a lists a client connected to c, with its instance; kill -9 of c takes it off the list", async (context) => {
    if (!checkAvailable(redisServer !== undefined, "redis-server (a Redis of the test's own)")) return context.skip();
    if (!existsSync(main)) throw new Error("build the app first: npx turbo run build --filter=gateway");
    const [a, , c] = await Promise.all([instance("pa"), instance("pb"), instance("pc")]);
    const ui = await client(a.port, ["operator.read"], { id: "ui", version: "1", platform: "web", mode: "ui" });
    await client(c.port, ["operator.read"], {
      id: "svc",
      version: "1",
      platform: "linux",
      mode: "backend",
      instanceId: "worker-on-c",
    });
    const entryOf = async (instanceId: string) =>
      ((await ui.request("system-presence", {})) as any[]).find((entry) => entry.instanceId === instanceId);
    await until(async () => (await entryOf("worker-on-c")) !== undefined, { message: "a to list c's client" });
    expect((await entryOf("worker-on-c")).tags).toContain("fleet:pc");
    const list = (await ui.request("system-presence", {})) as any[];
    // Every instance's own entry, each with its instance; a's UI client itself is on a.
    expect(list.filter((entry) => entry.mode === "gateway").flatMap((entry) => entry.tags)).toEqual(
      expect.arrayContaining(["fleet:pa", "fleet:pb", "fleet:pc"]),
    );
    // The change also came as a presence event to the UI (not only on request).
    await until(
      () =>
        ui.events("presence").some((event) => event.presence.some((entry: any) => entry.instanceId === "worker-on-c")),
      {
        message: "a presence event listing c's client",
      },
    );

    c.child.kill("SIGKILL");
    await c.exited;
    const killedAt = Date.now();
    await until(async () => (await entryOf("worker-on-c")) === undefined, {
      timeoutMs: 15_000,
      message: "c's client to drop out of a's list",
    });
    const goneMs = Date.now() - killedAt;
    // The registry forgets a silent instance after 6 s; the list follows within one refresh (2 s).
    expect(goneMs).toBeLessThan(9_000);
    expect(((await ui.request("system-presence", {})) as any[]).some((entry) => entry.tags?.includes("fleet:pc"))).toBe(
      false,
    );
    expectGapFree(ui.frames);
    console.log(`fleet presence: a killed instance's clients left the list after ${goneMs} ms`);
  }, 60_000);
});
