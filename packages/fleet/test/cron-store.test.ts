import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type CronHost, CronService, type Job } from "@gateway/cron";
// @ts-expect-error -- a plain .mjs helper of the private vitest preset
import { hasRedisServer, startRedisServer } from "@gateway/vitest-preset/redis";
import { checkAvailable, until } from "@gateway/vitest-preset/wait";
import { Redis } from "ioredis";
import { describe, expect, it } from "vitest";
import { RedisCronStore } from "../src/index.js";
import { fleetTestRedis } from "./support/redis.js";

const shared = fleetTestRedis("cron-store");
const { cleanups, available, unique } = shared;

/** An instance's scheduler on the shared store (its own Redis connection), over a clock the test moves. */
function instance(keyPrefix: string, clock: { now: number }, id: string, url = shared.url) {
  const connection = new Redis(url, { maxRetriesPerRequest: 1, retryStrategy: () => 50 });
  connection.on("error", () => {});
  const warnings: string[] = [];
  const dir = mkdtempSync(join(tmpdir(), "cron-store-"));
  const problems: string[] = [];
  const store = new RedisCronStore(connection, { keyPrefix, onProblem: (message) => problems.push(message) });
  const turns: string[] = [];
  const host: CronHost = {
    mainSessionKey: "agent:main:main",
    systemEvent: async () => {},
    agentTurn: async (message) => {
      turns.push(message);
      return { status: "ok", text: `done: ${message}` };
    },
    broadcast: () => {},
    log: { info: () => {}, warn: (message) => warnings.push(message) },
  };
  const cron = new CronService({ stateDir: dir, store, host, instanceId: id, now: () => clock.now });
  cleanups.push(() => {
    cron.stop();
    connection.disconnect();
    rmSync(dir, { recursive: true, force: true });
  });
  return { cron, store, turns, problems, host, warnings };
}

const hourly = {
  name: "hourly",
  schedule: { kind: "every" as const, everyMs: 3_600_000 },
  sessionTarget: "isolated" as const,
  wakeMode: "now" as const,
  payload: { kind: "agentTurn" as const, message: "tick" },
};

describe("RedisCronStore", () => {
  it("a job added on one instance is listed on the other at once, runs on the scheduler, and both show its runs", async () => {
    if (!available()) return;
    const keyPrefix = unique();
    const clock = { now: Date.parse("2026-11-22T08:00:00Z") };
    const a = instance(keyPrefix, clock, "a");
    const b = instance(keyPrefix, clock, "b");
    await a.cron.follow();
    await b.cron.start();
    const job = await a.cron.add(hourly);
    await b.cron.sync();
    expect(b.cron.list().jobs.map((listed) => listed.id)).toEqual([job.id]);
    clock.now = Date.parse("2026-11-22T09:00:00Z");
    b.cron.runDue();
    await b.cron.idle();
    expect(b.turns).toEqual(["tick"]);
    expect(a.turns).toEqual([]);
    await a.cron.sync();
    expect(a.cron.get(job.id)!.state).toMatchObject({
      lastStatus: "ok",
      nextRunAtMs: Date.parse("2026-11-22T10:00:00Z"),
    });
    expect((await a.cron.runs({ id: job.id })).entries).toMatchObject([{ status: "ok", runAtMs: clock.now }]);
    // cron.run on the follower hands the run to the scheduler.
    clock.now += 60_000;
    const asked = await a.cron.run(job.id);
    await b.cron.sync();
    await b.cron.idle();
    expect(b.turns).toEqual(["tick", "tick"]);
    expect((await a.cron.runs({ id: job.id })).entries[0]).toMatchObject({ runId: asked.runId, status: "ok" });
    // An edit on the follower applies on the scheduler; a removal too, and the history stays under scope "all".
    await a.cron.update(job.id, { name: "renamed" });
    await b.cron.sync();
    expect(b.cron.get(job.id)!.name).toBe("renamed");
    await a.cron.remove(job.id);
    await b.cron.sync();
    expect(b.cron.list().jobs).toEqual([]);
    expect((await b.cron.runs({ scope: "all" })).entries).toHaveLength(2);
  });

  it("a due time starts once however many try; an interrupted run is re-run once, naming it; never an older one", async () => {
    if (!available()) return;
    const keyPrefix = unique();
    const stores = [0, 1, 2].map(() => new RedisCronStore(shared.redis, { keyPrefix }));
    const start = (runId: string, dueAtMs: number, retryOf?: string) =>
      stores.map((store) =>
        store.claimStart({
          action: "started",
          ts: dueAtMs,
          jobId: "j",
          runId,
          dueAtMs,
          ...(retryOf ? { retryOf } : {}),
        }),
      );
    expect((await Promise.all(start("r1", 1_000))).filter(Boolean)).toHaveLength(1);
    expect(await stores[0]!.claimStart({ action: "started", ts: 0, jobId: "j", runId: "r0", dueAtMs: 500 })).toBe(
      false,
    );
    expect((await Promise.all(start("r2", 1_000, "r1"))).filter(Boolean)).toHaveLength(1);
    expect((await Promise.all(start("r3", 1_000, "r1"))).filter(Boolean)).toHaveLength(0);
    expect((await Promise.all(start("r4", 2_000))).filter(Boolean)).toHaveLength(1);
    const records = await stores[1]!.records("j");
    expect(records.map((record) => record.runId)).toEqual(["r1", "r2", "r4"]);
  });

  it("state writes: refused under a lease no longer held, and an edit made meanwhile wins over a run finishing", async () => {
    if (!available()) return;
    const keyPrefix = unique();
    const clock = { now: Date.parse("2026-11-22T08:00:00Z") };
    const a = instance(keyPrefix, clock, "a");
    await a.cron.start();
    const job = await a.cron.add(hourly);
    const leaseKey = `${keyPrefix}lease:cron`;
    await shared.redis.set(leaseKey, "a|7");
    a.store.fence({ key: leaseKey, value: "a|7" });
    const stale = structuredClone(job) as Job;
    await a.store.save([], { state: [{ ...stale, state: { lastStatus: "ok" } }] });
    expect((await a.store.load())[0]!.state).toEqual({ lastStatus: "ok" });
    await shared.redis.set(leaseKey, "b|8"); // another instance took the lease over
    await a.store.save([], { state: [{ ...stale, state: { lastStatus: "error" } }] });
    expect((await a.store.load())[0]!.state).toEqual({ lastStatus: "ok" });
    a.store.fence(undefined);
    // The job is edited (a new updatedAtMs) before the scheduler writes what it knew: the edit stays.
    const edited = { ...stale, name: "edited", updatedAtMs: stale.updatedAtMs + 1, state: { nextRunAtMs: 42 } };
    await a.store.save([], { put: [edited] });
    await a.store.save([], { state: [{ ...stale, state: { lastStatus: "error" } }] });
    expect((await a.store.load())[0]).toMatchObject({ name: "edited", state: { nextRunAtMs: 42 } });
    // A removed job is not brought back by a late state write.
    await a.store.save([], { removed: [job.id] });
    await a.store.save([], { state: [edited] });
    expect(await a.store.load()).toEqual([]);
  });

  it("what Redis holds that is not a job is left out and said, never overwritten", async () => {
    if (!available()) return;
    const keyPrefix = unique();
    const clock = { now: Date.parse("2026-11-22T08:00:00Z") };
    const a = instance(keyPrefix, clock, "a");
    await a.cron.start();
    const job = await a.cron.add(hourly);
    await shared.redis.hset(`${keyPrefix}cron:jobs`, "broken", '{"id":"broken","name":');
    await shared.redis.hset(`${keyPrefix}cron:jobs`, "odd", JSON.stringify({ id: "odd", name: "odd", enabled: "yes" }));
    await shared.redis.rpush(`${keyPrefix}cron:runs:${job.id}`, '{"action":"finished"}');
    expect((await a.store.load()).map((loaded) => loaded.id)).toEqual([job.id]);
    expect(await a.store.records(job.id)).toEqual([]);
    expect(a.problems).toHaveLength(3);
    expect(a.problems[0]).toMatch(/^cron: job broken in Redis is not what this version reads/);
    expect(await shared.redis.hget(`${keyPrefix}cron:jobs`, "broken")).toBe('{"id":"broken","name":');
  });

  it("jobs of a local file are copied in once per id: two instances with the same file make one job, a removed one stays removed", async () => {
    if (!available()) return;
    const keyPrefix = unique();
    const clock = { now: Date.parse("2026-11-22T08:00:00Z") };
    const local = instance(unique(), clock, "local");
    await local.cron.start();
    const job = await local.cron.add(hourly);
    const a = instance(keyPrefix, clock, "a");
    const b = instance(keyPrefix, clock, "b");
    const [fromA, fromB] = await Promise.all([a.store.importOnce([job]), b.store.importOnce([job])]);
    expect(fromA.length + fromB.length).toBe(1);
    expect((await a.store.load()).map((loaded) => loaded.id)).toEqual([job.id]);
    await a.cron.follow();
    await a.cron.remove(job.id);
    expect(await b.store.importOnce([job])).toEqual([]);
    expect(await b.store.load()).toEqual([]);
  });

  it("watch: a change on one instance reaches the other within moments", async () => {
    if (!available()) return;
    const keyPrefix = unique();
    const clock = { now: Date.now() };
    const a = instance(keyPrefix, clock, "a");
    const b = instance(keyPrefix, clock, "b");
    await a.cron.follow();
    await b.cron.follow();
    let told = 0;
    const stop = await b.store.watch(() => told++);
    cleanups.push(stop);
    await a.cron.add(hourly);
    await until(() => told > 0, { message: "b to be told" });
  });

  it("Redis away: a due run does not happen (it cannot be claimed), edits fail with the reason, nothing crashes; back, the job runs", async (context) => {
    if (!checkAvailable(hasRedisServer(), "redis-server (for an outage of its own)")) return context.skip();
    const server = await startRedisServer();
    cleanups.push(() => rmSync(server.dir, { recursive: true, force: true }));
    const clock = { now: Date.parse("2026-11-22T08:00:00Z") };
    const a = instance(unique(), clock, "a", server.url);
    await a.cron.start();
    const job = await a.cron.add(hourly);
    await server.kill();
    clock.now = Date.parse("2026-11-22T09:00:00Z");
    a.cron.runDue();
    await a.cron.idle();
    expect(a.turns).toEqual([]);
    expect(a.warnings.join("\n")).toMatch(/hourly: not run at 2026-11-22T09:00:00.000Z: cannot claim the run/);
    await expect(a.cron.update(job.id, { name: "renamed" })).rejects.toThrow();
    const back = await startRedisServer({ port: Number(new URL(server.url).port), dir: server.dir });
    cleanups.push(() => back.stop());
    await until(async () => (await a.store.load().catch(() => [])).length === 1, { message: "Redis back" });
    clock.now = Date.parse("2026-11-22T10:00:00Z");
    a.cron.runDue();
    await a.cron.idle();
    expect(a.turns).toEqual(["tick"]);
    expect((await a.cron.runs({ id: job.id })).entries).toMatchObject([{ status: "ok" }]);
  }, 30_000);
});
