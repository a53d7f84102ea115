// Against real Redis: records shared by instances — concurrent changes of one record all land, a change on one
// instance reaches the other's copy with its note, bad data in Redis is refused with a clear message, and a
// subscription lost in an outage is marked stale and caught up on reconnect.
import { randomUUID } from "node:crypto";
import { rmSync } from "node:fs";
// @ts-expect-error -- a plain .mjs helper of the private vitest preset
import { hasRedisServer, startRedisServer } from "@gateway/vitest-preset/redis";
import { checkAvailable, until } from "@gateway/vitest-preset/wait";
import { Type } from "@sinclair/typebox";
import { Redis } from "ioredis";
import { describe, expect, it } from "vitest";
import { SharedRecords } from "../src/index.js";
import { fleetTestRedis } from "./support/redis.js";

const testRedis = fleetTestRedis("shared");
const { prefix, cleanups, available } = testRedis;

const Counter = Type.Object({ count: Type.Number(), by: Type.Array(Type.String()) });

/** A second command connection, as another instance has (closed after the test). */
function connection(): Redis {
  const other = testRedis.redis.duplicate();
  cleanups.push(() => other.disconnect());
  return other;
}

function records(connection: Redis, self: string, keyPrefix = prefix, problems: string[] = []) {
  const shared = new SharedRecords(connection, {
    keyPrefix,
    name: "counters",
    schema: Counter,
    self,
    onProblem: (message) => problems.push(message),
  });
  cleanups.push(() => shared.close());
  return shared;
}

describe("SharedRecords", () => {
  it("100 concurrent changes of one record from two instances all land; the other's copy follows with the note", async () => {
    if (!available()) return;
    const keyPrefix = `${prefix}${randomUUID().slice(0, 8)}:`;
    const a = records(testRedis.redis, "a", keyPrefix);
    const b = records(connection(), "b", keyPrefix);
    await Promise.all([a.load(), b.load()]);
    const seen: Array<[string, string | undefined]> = [];
    b.watch((id, _record, note) => seen.push([id, note]));
    const bump = (shared: typeof a, who: string) =>
      shared.update("x", (current) => ({
        count: (current?.count ?? 0) + 1,
        by: [...(current?.by ?? []), who],
      }));
    await Promise.all(Array.from({ length: 50 }, (_, index) => [bump(a, `a${index}`), bump(b, `b${index}`)]).flat());
    const stored = JSON.parse((await testRedis.redis.hget(`${keyPrefix}counters`, "x"))!.split("|").slice(1).join("|"));
    expect(stored.count).toBe(100);
    expect(new Set(stored.by).size).toBe(100);
    await until(() => a.get("x")?.count === 100 && b.get("x")?.count === 100, { message: "both copies at 100" });

    await a.update("y", () => ({ count: 7, by: [] }), "revoke:operator");
    await until(() => b.get("y")?.count === 7, { message: "b to follow a's change" });
    expect(seen).toContainEqual(["y", "revoke:operator"]);
    await a.update("y", () => undefined);
    await until(() => b.get("y") === undefined, { message: "b to follow a's deletion" });
    expect(b.staleness()).toBeUndefined();
  });

  it("the first instance carries its records over; once the fleet has records, a joining instance's stay out", async () => {
    if (!available()) return;
    const keyPrefix = `${prefix}${randomUUID().slice(0, 8)}:`;
    const first = records(testRedis.redis, "a", keyPrefix);
    expect(await first.seed(new Map([["paired", { count: 1, by: ["file of a"] }]]))).toBe(1);
    await first.load();
    await first.update("paired", () => undefined); // removed in the fleet
    const joining = records(connection(), "b", keyPrefix);
    expect(await joining.seed(new Map([["paired", { count: 1, by: ["file of b"] }]]))).toBe(0);
    expect([...(await joining.load()).keys()]).toEqual([]);
  });

  it("a record in Redis that is not what it should be is refused with a clear message and left as it is", async () => {
    if (!available()) return;
    const keyPrefix = `${prefix}${randomUUID().slice(0, 8)}:`;
    await testRedis.redis.hset(`${keyPrefix}counters`, "bad", '1|{"count":"many"}', "good", '2|{"count":1,"by":[]}');
    const problems: string[] = [];
    const shared = records(testRedis.redis, "a", keyPrefix, problems);
    const loaded = await shared.load();
    expect([...loaded.keys()]).toEqual(["good"]);
    expect(problems.join("\n")).toMatch(/counters field bad is not a valid record/);
    await expect(shared.update("bad", () => ({ count: 1, by: [] }))).rejects.toThrow(/not a valid record/);
    expect(await testRedis.redis.hget(`${keyPrefix}counters`, "bad")).toBe('1|{"count":"many"}');
    // a message on the channel that is not a change is ignored, said once in the problems
    await testRedis.redis.publish(`${keyPrefix}counters:changes`, "5|{nonsense");
    await until(() => problems.some((problem) => problem.includes("ignored a message")), { message: "the problem" });
  });

  it("Redis restarting: the copy counts as stale meanwhile, and what changed is reported on reconnect", async (context) => {
    if (!checkAvailable(hasRedisServer(), "redis-server (for an outage of its own)")) return context.skip();
    const server = await startRedisServer();
    cleanups.push(() => rmSync(server.dir, { recursive: true, force: true }));
    const own = new Redis(server.url, { maxRetriesPerRequest: 1, retryStrategy: () => 50 });
    own.on("error", () => {});
    cleanups.push(() => own.disconnect());
    const watcher = records(own, "watcher");
    await watcher.load();
    const changes: Array<[string, string | undefined]> = [];
    watcher.watch((id, _record, note) => changes.push([id, note]));
    await server.kill();
    await until(() => watcher.staleness() !== undefined, { message: "the copy to count as stale" });
    expect(watcher.staleness()).toMatch(/lost the fleet's Redis/);
    const again = await startRedisServer({ port: server.port, dir: server.dir });
    cleanups.push(() => again.stop());
    // Another instance writes while the watcher is still reconnecting.
    const writer = new Redis(again.url);
    cleanups.push(() => writer.disconnect());
    const other = records(writer, "other");
    await other.load();
    await other.update("missed", () => ({ count: 1, by: ["other"] }));
    await until(() => watcher.staleness() === undefined && watcher.get("missed")?.count === 1, {
      timeoutMs: 10_000,
      message: "the watcher to catch up",
    });
    // Reported either by the catch-up read ("resync") or, when the subscription was back first, as it happened.
    expect(changes.map(([id]) => id)).toContain("missed");
  });
});
