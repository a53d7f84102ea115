// Against real Redis: exactly-once delivery under concurrent producers, a consumer killed mid-drain, Redis itself
// restarted while producers push, central/satellite routing, and the seed's redis-cli commands verbatim.
import { spawn, spawnSync } from "node:child_process";
import { randomUUID } from "node:crypto";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
// @ts-expect-error -- a plain .mjs helper of the private vitest preset
import { hasRedisServer, startRedisServer, useRedis } from "@gateway/vitest-preset/redis";
import { skipUnlessAvailable, until } from "@gateway/vitest-preset/wait";
import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  type BridgeEvent,
  bridgeKeys,
  EventConsumer,
  type EventConsumerOptions,
  formatEventsPrompt,
  pushEvent,
} from "../src/index.js";

// Every key of this run sits under its own prefix: the tests never touch keys a user has on a shared Redis.
const keyPrefix = `gateway-test-${randomUUID().slice(0, 8)}:`;
const keys = bridgeKeys(keyPrefix);

const here = dirname(fileURLToPath(import.meta.url));
let redisHandle: { url: string; stop(): Promise<void> } | undefined;
let redis: Redis;
const consumers: EventConsumer[] = [];
beforeAll(async () => {
  redisHandle = await useRedis();
  if (redisHandle) redis = new Redis(redisHandle.url);
});
afterAll(async () => {
  for (const consumer of consumers) await consumer.stop();
  // What this run left under its prefix (dedupe marks, dead letters) goes with it.
  if (redis) for (const key of await redis.keys(`${keyPrefix}*`)) await redis.del(key);
  redis?.disconnect();
  await redisHandle?.stop();
});

function consume(options: Partial<EventConsumerOptions> & { sessions: string[] }, url = redisHandle!.url) {
  const received: Array<{ event: BridgeEvent; session: string }> = [];
  const consumer = new EventConsumer({
    url,
    consumerId: randomUUID(),
    pollIntervalMs: 200,
    redisOptions: { retryStrategy: () => 100 },
    async deliver(events, session) {
      for (const event of events) received.push({ event, session });
    },
    keyPrefix,
    ...options,
  });
  consumers.push(consumer);
  return { consumer, received };
}
const REDIS = "Redis (REDIS_URL, 127.0.0.1:6379 or a redis-server binary)";

describe("redis bridge (real Redis)", () => {
  it("delivers every event exactly once while producers push concurrently", async (context) => {
    skipUnlessAvailable(redisHandle !== undefined, REDIS, () => context.skip());
    const session = `t-${randomUUID()}`;
    const { consumer, received } = consume({ sessions: [session], batchSize: 50 });
    await consumer.start();
    const producers = Array.from({ length: 4 }, () => new Redis(redisHandle!.url));
    const pushed: string[] = [];
    await Promise.all(
      producers.map(async (producer, index) => {
        for (let n = 0; n < 250; n++) {
          const json = JSON.stringify({
            id: `p${index}-${n}`,
            type: "load",
            source: `producer-${index}`,
            payload: { n },
            ts: Date.now(),
          });
          await producer.lpush(keys.events(session), json);
          if (n % 10 === 0) await producer.publish(keys.notify(session), "x");
          pushed.push(`p${index}-${n}`);
        }
      }),
    );
    await until(() => received.length >= 1000, { timeoutMs: 10_000, message: "1000 events delivered" });
    // One more full pass after the last push: whatever was left, or would be delivered twice, shows now.
    await consumer.drain();
    const ids = received.map((entry) => entry.event.id);
    expect(ids).toHaveLength(1000);
    expect(new Set(ids).size).toBe(1000);
    expect([...ids].sort()).toEqual([...pushed].sort());
    // Each producer's events arrive in the order it pushed them.
    for (let index = 0; index < 4; index++) {
      const own = ids.filter((id) => id.startsWith(`p${index}-`)).map((id) => Number(id.split("-")[1]));
      expect(own).toEqual([...own].sort((a, b) => a - b));
    }
    expect(await redis.llen(keys.events(session))).toBe(0);
    for (const producer of producers) producer.disconnect();
  });

  it("drops a redelivered id, keeps non-events aside in the dead list", async (context) => {
    skipUnlessAvailable(redisHandle !== undefined, REDIS, () => context.skip());
    const session = `t-${randomUUID()}`;
    const { consumer, received } = consume({ sessions: [session] });
    await consumer.start();
    const event = JSON.stringify({ id: "same-id", type: "retry", source: "s", payload: {}, ts: 1 });
    await redis.lpush(keys.events(session), event, event, "not json", JSON.stringify({ type: "no id" }));
    await consumer.drain();
    await redis.lpush(keys.events(session), event);
    await consumer.drain();
    expect(received.map((entry) => entry.event.id)).toEqual(["same-id"]);
    expect(await redis.lrange(keys.dead(session), 0, -1)).toHaveLength(2);
    expect(consumer.status()).toMatchObject({ state: "ready", delivered: 1, duplicates: 2, dead: 2 });
  });

  it("a consumer killed (SIGKILL) mid-drain: after restart the unacknowledged events arrive, none twice", async (context) => {
    skipUnlessAvailable(redisHandle !== undefined, REDIS, () => context.skip());
    const session = `t-${randomUUID()}`;
    const dir = mkdtempSync(join(tmpdir(), "bridge-crash-"));
    const file = join(dir, "delivered.txt");
    const pushed: string[] = [];
    const multi = redis.multi();
    for (let n = 0; n < 600; n++) {
      const id = `e-${n}`;
      pushed.push(id);
      multi.lpush(keys.events(session), JSON.stringify({ id, type: "t", source: "s", payload: {}, ts: n }));
    }
    await multi.exec();
    const startChild = () =>
      spawn(
        process.execPath,
        [
          "--conditions=@gateway/source",
          "--import",
          "tsx",
          join(here, "fixtures", "consumer-child.ts"),
          redisHandle!.url,
          session,
          file,
          keyPrefix,
        ],
        {
          cwd: join(here, ".."),
          stdio: ["ignore", "pipe", "inherit"],
        },
      );
    const first = startChild();
    const lines = () => (existsSync(file) ? readFileSync(file, "utf8").split("\n").filter(Boolean) : []);
    await until(() => lines().length >= 150, { timeoutMs: 20_000, message: "150 events in the file" });
    first.kill("SIGKILL");
    await new Promise((resolve) => first.once("exit", resolve));
    const afterKill = lines().length;
    expect(afterKill).toBeLessThan(600);
    expect(await redis.llen(keys.processing(session, "crash-test"))).toBeGreaterThan(0); // a batch was in flight
    const second = startChild();
    await until(() => lines().length >= 600, { timeoutMs: 20_000, message: "600 events in the file" });
    // Done when nothing waits or is in flight: only those could still be (re)delivered.
    await until(
      async () =>
        (await redis.llen(keys.events(session))) === 0 &&
        (await redis.llen(keys.processing(session, "crash-test"))) === 0,
      { timeoutMs: 10_000, message: "the list and the in-flight list empty" },
    );
    second.kill("SIGTERM");
    await new Promise((resolve) => second.once("exit", resolve));
    const all = lines();
    expect(all).toHaveLength(600);
    expect(new Set(all).size).toBe(600);
    expect(await redis.llen(keys.processing(session, "crash-test"))).toBe(0);
    rmSync(dir, { recursive: true, force: true });
  }, 60_000);

  it("Redis restarted while producers push: nothing is lost, delivery resumes by itself", async (context) => {
    skipUnlessAvailable(hasRedisServer(), "a redis-server binary (this test restarts its own Redis)", () =>
      context.skip(),
    );
    const server = await startRedisServer();
    try {
      const session = `t-${randomUUID()}`;
      const { consumer, received } = consume({ sessions: [session] }, server.url);
      await consumer.start();
      const producer = new Redis(server.url, { maxRetriesPerRequest: null, retryStrategy: () => 100 });
      producer.on("error", () => {});
      const pushing = (async () => {
        for (let n = 0; n < 200; n++) {
          // Pushed during the outage, these wait in the client's offline queue and go out on reconnection.
          await producer.lpush(
            keys.events(session),
            JSON.stringify({ id: `r-${n}`, type: "tick", source: "restart-test", payload: { n }, ts: Date.now() }),
          );
          await producer.publish(keys.notify(session), "x");
          if (n === 60) void server.kill().then(() => startRedisServer({ port: server.port, dir: server.dir }));
          // Pacing, not waiting: it spreads the pushes so the outage falls in the middle of them.
          await new Promise((resolve) => setTimeout(resolve, 2));
        }
      })();
      await pushing;
      await until(() => received.length >= 200, { timeoutMs: 20_000, message: "200 events delivered" });
      const ids = received.map((entry) => entry.event.id);
      expect(new Set(ids).size).toBe(200);
      expect(ids).toHaveLength(200);
      expect(consumer.status().state).toBe("ready");
      producer.disconnect();
      await consumer.stop();
    } finally {
      const restarted = new Redis(server.url, {
        lazyConnect: true,
        maxRetriesPerRequest: 1,
        retryStrategy: () => null,
      });
      restarted.on("error", () => {});
      await restarted.connect().catch(() => {});
      await restarted.shutdown("NOSAVE").catch(() => {});
      restarted.disconnect();
      rmSync(server.dir, { recursive: true, force: true });
    }
  }, 60_000);

  it("stops at once while Redis is away (a drain waiting for Redis does not hold the shutdown)", async (context) => {
    skipUnlessAvailable(hasRedisServer(), "a redis-server binary (this test kills its own Redis)", () =>
      context.skip(),
    );
    const server = await startRedisServer();
    try {
      const { consumer } = consume({ sessions: [`t-${randomUUID()}`] }, server.url);
      await consumer.start();
      await server.kill();
      await until(() => consumer.status().state === "reconnecting", { message: "the consumer to see Redis gone" });
      // The poll timer starts drains that wait for Redis.
      await new Promise((resolve) => setTimeout(resolve, 500));
      const started = Date.now();
      await consumer.stop();
      expect(Date.now() - started).toBeLessThan(1_000);
      expect(consumer.status().state).toBe("closed");
    } finally {
      rmSync(server.dir, { recursive: true, force: true });
    }
  });

  it("routes to the central session always and to the origin session when it is live", async (context) => {
    skipUnlessAvailable(redisHandle !== undefined, REDIS, () => context.skip());
    const satellite = `pid-${randomUUID()}`;
    const { consumer, received } = consume({ sessions: [satellite] });
    await consumer.start();
    expect(await redis.sismember(keys.sessions, satellite)).toBe(1);
    const first = await pushEvent(redis, "build.done", "ci", { ok: true }, satellite, { keyPrefix });
    expect(first.sessions.sort()).toEqual(["gateway", satellite].sort());
    await until(() => received.length === 1, { message: "the event delivered" });
    expect(received[0]!.event).toMatchObject({ type: "build.done", source: "ci", payload: { ok: true } });
    await consumer.stop();
    expect(await redis.sismember(keys.sessions, satellite)).toBe(0);
    const second = await pushEvent(redis, "build.done", "ci", {}, satellite, { keyPrefix });
    expect(second.sessions).toEqual(["gateway"]);
    const central = (await redis.lrange(keys.events("gateway"), 0, -1)).map((raw) => JSON.parse(raw).id);
    expect(central).toEqual([second.event.id, first.event.id]);
    await redis.del(keys.events("gateway"));
  });

  it("the seed's redis-cli commands reach the central session (main is an alias of gateway)", async (context) => {
    // Verbatim, so on a Redis of its own: the seed's keys have no prefix, and a user's may be on the shared one.
    skipUnlessAvailable(
      hasRedisServer() && spawnSync("redis-cli", ["--version"]).status === 0,
      "redis-server and redis-cli (the seed's commands run verbatim)",
      () => context.skip(),
    );
    const server = await startRedisServer();
    try {
      const { consumer, received } = consume(
        { sessions: ["gateway", "main"], register: false, keyPrefix: "" },
        server.url,
      );
      await consumer.start();
      const cli = (...args: string[]) => spawnSync("redis-cli", ["-u", server.url, ...args], { encoding: "utf8" });
      cli("LPUSH", "agent:events:main", '{"id":"test","type":"test","source":"manual","payload":{},"ts":0}');
      cli("PUBLISH", "agent:notify:main", "test");
      await until(() => received.length === 1, { message: "the seed's event delivered" });
      expect(received[0]).toMatchObject({ session: "main", event: { id: "test", type: "test", source: "manual" } });
      expect(formatEventsPrompt([received[0]!.event], new Date(0))).toBe(
        "## 🔔 1 event(s) — 1970-01-01T00:00:00.000Z\n\n- **[00:00:00] test** (manual)\n\nTake action if needed, otherwise acknowledge briefly.",
      );
      await consumer.stop();
    } finally {
      await server.stop();
    }
  });
});
