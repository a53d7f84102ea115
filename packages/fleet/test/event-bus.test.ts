import { rmSync } from "node:fs";
// @ts-expect-error -- a plain .mjs helper of the private vitest preset
import { hasRedisServer, startRedisServer } from "@gateway/vitest-preset/redis";
import { checkAvailable, until } from "@gateway/vitest-preset/wait";
import { Redis } from "ioredis";
import { describe, expect, it } from "vitest";
import { type FleetEvent, FleetEventBus, type FleetEventBusOptions } from "../src/index.js";
import { fleetTestRedis } from "./support/redis.js";

const shared = fleetTestRedis("fleet-events");
const { cleanups, available, unique } = shared;

/** A bus of instance `self` on its own connection, collecting what it receives and what it warns about. */
async function member(url: string, self: string, keyPrefix: string, options: Partial<FleetEventBusOptions> = {}) {
  const connection = new Redis(url, { maxRetriesPerRequest: 2, retryStrategy: () => 50 });
  connection.on("error", () => {});
  const received: FleetEvent[] = [];
  const warnings: string[] = [];
  const bus = new FleetEventBus(connection, {
    self,
    keyPrefix,
    log: { warn: (line) => warnings.push(line) },
    ...options,
  });
  await bus.start((event) => received.push(event));
  cleanups.push(() => {
    bus.close();
    connection.disconnect();
  });
  return { bus, received, warnings, connection };
}

describe("FleetEventBus", () => {
  it("events reach every other instance in publish order, never their own producer", async () => {
    if (!available()) return;
    const keyPrefix = unique();
    const [a, b, c] = await Promise.all(["a", "b", "c"].map((id) => member(shared.url, id, keyPrefix)));
    for (let index = 0; index < 200; index++) {
      a!.bus.publish("chat", JSON.stringify({ n: index, from: "a" }));
      b!.bus.publish("agent", JSON.stringify({ n: index, from: "b" }));
    }
    await until(() => c!.received.length === 400, { message: "c to receive all 400 events" });
    await until(() => a!.received.length === 200 && b!.received.length === 200, { message: "a and b: the other's" });
    const from = (events: FleetEvent[], origin: string) =>
      events.filter((event) => event.origin === origin).map((event) => JSON.parse(event.payloadJson!).n);
    const inOrder = Array.from({ length: 200 }, (_, index) => index);
    expect(from(c!.received, "a")).toEqual(inOrder);
    expect(from(c!.received, "b")).toEqual(inOrder);
    expect(a!.received.every((event) => event.origin === "b" && event.event === "agent")).toBe(true);
    expect(b!.received.every((event) => event.origin === "a" && event.event === "chat")).toBe(true);
    expect(a!.bus.counts).toMatchObject({ published: 200, received: 200, malformed: 0, lost: 0 });
  });

  it("what the stream held before an instance started is not replayed to it", async () => {
    if (!available()) return;
    const keyPrefix = unique();
    const a = await member(shared.url, "a", keyPrefix);
    a.bus.publish("chat", JSON.stringify({ n: "old" }));
    await until(async () => (await shared.redis.xlen(`${keyPrefix}events`)) === 1, { message: "the old event stored" });
    const b = await member(shared.url, "b", keyPrefix);
    a.bus.publish("chat", JSON.stringify({ n: "new" }));
    await until(() => b.received.length === 1, { message: "b to receive the new event" });
    expect(JSON.parse(b.received[0]!.payloadJson!).n).toBe("new");
  });

  it("a malformed entry is logged and skipped; the next one is delivered", async () => {
    if (!available()) return;
    const keyPrefix = unique();
    const b = await member(shared.url, "b", keyPrefix);
    await shared.redis.xadd(`${keyPrefix}events`, "*", "origin", "x", "event", "chat", "publishedAt", "soon");
    await shared.redis.xadd(`${keyPrefix}events`, "*", "junk", "1");
    await shared.redis.xadd(
      `${keyPrefix}events`,
      "*",
      "origin",
      "x",
      "event",
      "chat",
      "publishedAt",
      "1",
      "payloadJson",
      "{}",
    );
    await until(() => b.received.length === 1, { message: "the valid entry" });
    expect(b.bus.counts.malformed).toBe(2);
    expect(b.warnings.join("\n")).toMatch(/skipped an event of entry .*publishedAt.*something other than a gateway/);
    expect(b.warnings.join("\n")).toMatch(/skipped an event of entry .*\/(origin|event)/);
  });

  it("the stream stays bounded (MAXLEN ~)", async () => {
    if (!available()) return;
    const keyPrefix = unique();
    const a = await member(shared.url, "a", keyPrefix, { maxLength: 100 });
    for (let index = 0; index < 2_000; index++) {
      a.bus.publish("chat", `{"n":${index}}`);
      await new Promise((resolve) => setImmediate(resolve)); // one entry each
    }
    await until(
      async () =>
        (await shared.redis.xrevrange(`${keyPrefix}events`, "+", "-", "COUNT", 1))[0]?.[1].at(-1) === '{"n":1999}',
      {
        message: "the last event stored",
      },
    );
    // `~` trims whole radix-tree nodes: a little over the bound, never the 2,000.
    expect(await shared.redis.xlen(`${keyPrefix}events`)).toBeLessThan(300);
  });

  it("Redis restarts: nothing crashes, events published meanwhile go out when it is back, readers resume", async (context) => {
    if (!checkAvailable(hasRedisServer(), "redis-server (for an outage of its own)")) return context.skip();
    const server = await startRedisServer();
    let killed = false;
    cleanups.push(
      () => rmSync(server.dir, { recursive: true, force: true }),
      () => (killed ? undefined : server.kill()),
    );
    const keyPrefix = unique();
    const a = await member(server.url, "a", keyPrefix);
    const b = await member(server.url, "b", keyPrefix);
    a.bus.publish("chat", JSON.stringify({ n: 1 }));
    await until(() => b.received.length === 1, { message: "the first event" });
    killed = true;
    await server.kill();
    await until(() => a.connection.status !== "ready", { message: "a to see Redis gone" });
    a.bus.publish("chat", JSON.stringify({ n: 2 }));
    a.bus.publish("chat", JSON.stringify({ n: 3 }));
    const again = await startRedisServer({ port: server.port, dir: server.dir });
    cleanups.push(() => again.stop());
    await until(() => b.received.length === 3, { timeoutMs: 10_000, message: "the events of the outage" });
    a.bus.publish("chat", JSON.stringify({ n: 4 }));
    await until(() => b.received.length === 4, { message: "fan-out to go on" });
    expect(b.received.map((event) => JSON.parse(event.payloadJson!).n)).toEqual([1, 2, 3, 4]);
    expect(a.warnings.join("\n")).toMatch(
      /Redis is unreachable.*Redis is back; what waited is published \(stream entries: 1\)/s,
    );
    expect(a.bus.counts.lost).toBe(0);
  }, 30_000);
});
