// Against real Redis: leases with fencing tokens (one holder, growing tokens, takeover after expiry, a paused holder
// finds out it lost the lease, a Redis outage ends a lease at its ttl), the fleet registry, fleet-wide claims.
import { type ChildProcess, spawn } from "node:child_process";
import { rmSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
// @ts-expect-error -- a plain .mjs helper of the private vitest preset
import { hasRedisServer, startRedisServer } from "@gateway/vitest-preset/redis";
import { checkAvailable, until } from "@gateway/vitest-preset/wait";
import { Redis } from "ioredis";
import { describe, expect, it } from "vitest";
import { claimOnce, FleetRegistry, Lease, LeaseManager } from "../src/index.js";
import { fleetTestRedis } from "./support/redis.js";

const here = dirname(fileURLToPath(import.meta.url));
const shared = fleetTestRedis("fleet");
const { cleanups, available, unique } = shared;

describe("Lease", () => {
  it("one holder at a time; each new holder gets a larger fencing token; only the holder renews or releases", async () => {
    if (!available()) return;
    const key = `${unique()}lease`;
    const a = new Lease(shared.redis, { key, owner: "a", ttlMs: 5_000 });
    const b = new Lease(shared.redis, { key, owner: "b", ttlMs: 5_000 });
    const [fenceA, fenceB] = await Promise.all([a.tryAcquire(), b.tryAcquire()]);
    expect([fenceA, fenceB].filter((fence) => fence !== undefined)).toHaveLength(1);
    const [holder, waiter] = fenceA !== undefined ? [a, b] : [b, a];
    expect(holder.held()).toBe(true);
    expect(await waiter.renew()).toBe(false);
    await waiter.release(); // not its lease: nothing happens
    expect((await Lease.holder(shared.redis, key))?.owner).toBe(holder.options.owner);
    expect(await holder.renew()).toBe(true);
    await holder.release();
    const next = await waiter.tryAcquire();
    expect(next).toBeGreaterThan(holder === a ? fenceA! : fenceB!);
  });

  it("an expired lease passes on; the old holder's renewal fails and it no longer counts as held", async () => {
    if (!available()) return;
    const key = `${unique()}lease`;
    const old = new Lease(shared.redis, { key, owner: "old", ttlMs: 150 });
    const first = await old.tryAcquire();
    await until(async () => (await Lease.holder(shared.redis, key)) === undefined, { message: "the lease to expire" });
    expect(old.held()).toBe(false);
    const fresh = new Lease(shared.redis, { key, owner: "new", ttlMs: 5_000 });
    const second = await fresh.tryAcquire();
    expect(second).toBe(first! + 1);
    expect(await old.renew()).toBe(false);
    expect(await Lease.holder(shared.redis, key)).toMatchObject({ owner: "new", fence: second });
  });
});

describe("LeaseManager", () => {
  it("a waiting instance takes the lease as soon as the holder releases it, and keeps it renewed past its ttl", async () => {
    if (!available()) return;
    const keyPrefix = unique();
    const a = new LeaseManager(shared.redis, { owner: "a", keyPrefix, ttlMs: 300, retryMs: 20 });
    const b = new LeaseManager(shared.redis, { owner: "b", keyPrefix, ttlMs: 300, retryMs: 20 });
    cleanups.push(
      () => a.close(),
      () => b.close(),
    );
    const signal = new AbortController().signal;
    const held = await a.acquire("telegram:default", signal);
    let bHeld: Awaited<ReturnType<LeaseManager["acquire"]>>;
    const waiting = b.acquire("telegram:default", signal).then((lease) => {
      bHeld = lease;
    });
    // Three ttls later A still holds it: the renewals work, and B is still waiting.
    await new Promise((resolve) => setTimeout(resolve, 900));
    expect(held!.held()).toBe(true);
    expect(bHeld).toBeUndefined();
    expect(a.owned()).toEqual([{ name: "telegram:default", fence: held!.fence }]);
    await held!.release();
    await waiting;
    expect(bHeld!.fence).toBeGreaterThan(held!.fence);
    expect(await held!.lost).toBe("released");
  });

  it("waiting ends when its signal aborts", async () => {
    if (!available()) return;
    const keyPrefix = unique();
    const a = new LeaseManager(shared.redis, { owner: "a", keyPrefix, ttlMs: 5_000 });
    const b = new LeaseManager(shared.redis, { owner: "b", keyPrefix, ttlMs: 5_000 });
    cleanups.push(
      () => a.close(),
      () => b.close(),
    );
    await a.acquire("x", new AbortController().signal);
    const controller = new AbortController();
    const waiting = b.acquire("x", controller.signal);
    controller.abort();
    expect(await waiting).toBeUndefined();
  });

  it("a holder paused past its ttl (SIGSTOP) finds on waking that it lost the lease, which another instance holds", async () => {
    if (!available()) return;
    const keyPrefix = unique();
    const child: ChildProcess = spawn(
      process.execPath,
      ["--import", "tsx", join(here, "fixtures", "lease-holder.ts"), shared.url, keyPrefix, "600"],
      { stdio: ["pipe", "pipe", "inherit"] },
    );
    cleanups.push(() => child.kill("SIGKILL"));
    let output = "";
    child.stdout!.on("data", (chunk) => {
      output += chunk;
    });
    await until(() => /HELD \d+/.test(output), { timeoutMs: 15_000, message: "the child to hold the lease" });
    const fence = Number(/HELD (\d+)/.exec(output)![1]);
    child.kill("SIGSTOP");
    const other = new LeaseManager(shared.redis, { owner: "other", keyPrefix, ttlMs: 5_000, retryMs: 50 });
    cleanups.push(() => other.close());
    const taken = await other.acquire("account", new AbortController().signal);
    expect(taken!.fence).toBe(fence + 1);
    child.kill("SIGCONT");
    child.stdin!.write("held?\n");
    await until(() => /HELD-NOW/.test(output) && /LOST/.test(output), { message: "the woken child to notice" });
    expect(output).toMatch(/HELD-NOW false/);
    expect(output).toMatch(/LOST (the lease was not renewed|another instance holds the lease now)/);
    expect((await Lease.holder(shared.redis, `${keyPrefix}lease:account`))?.owner).toBe("other");
  }, 30_000);

  it("Redis going away ends a lease once its ttl is up (the holder cannot know it is still its own)", async (context) => {
    if (!checkAvailable(hasRedisServer(), "redis-server (for an outage of its own)")) return context.skip();
    const server = await startRedisServer();
    const own = new Redis(server.url, { maxRetriesPerRequest: 1, retryStrategy: () => 50 });
    own.on("error", () => {});
    const manager = new LeaseManager(own, { owner: "a", keyPrefix: unique(), ttlMs: 400 });
    cleanups.push(
      () => rmSync(server.dir, { recursive: true, force: true }),
      () => own.disconnect(),
    );
    const lease = await manager.acquire("x", new AbortController().signal);
    const started = performance.now();
    await server.kill();
    expect(await lease!.lost).toMatch(/not renewed within 400 ms/);
    expect(performance.now() - started).toBeLessThan(2_000);
    expect(lease!.held()).toBe(false);
  });
});

describe("FleetRegistry and claimOnce", () => {
  it("instances see each other; one that leaves is gone at once, one that stops beating after three intervals", async () => {
    if (!available()) return;
    const keyPrefix = unique();
    const member = (id: string) =>
      new FleetRegistry(shared.redis, {
        keyPrefix,
        intervalMs: 100,
        self: () => ({
          id,
          host: "h",
          pid: 1,
          url: `ws://127.0.0.1/${id}`,
          version: "t",
          startedAt: 1,
          owns: [`lease-${id}`],
        }),
      });
    const a = member("a");
    const b = member("b");
    const c = member("c");
    await Promise.all([a.join(), b.join(), c.join()]);
    expect((await a.members()).map((entry) => [entry.id, entry.owns])).toEqual([
      ["a", ["lease-a"]],
      ["b", ["lease-b"]],
      ["c", ["lease-c"]],
    ]);
    await b.leave("b");
    expect((await a.members()).map((entry) => entry.id)).toEqual(["a", "c"]);
    await c.leave("c").catch(() => {}); // stop its beat, then put its entry back as a crashed instance leaves it
    await c.beat();
    await until(async () => (await a.members()).length === 1, { message: "the silent instance to drop out" });
    await a.leave("a");
  });

  it("claimOnce: exactly one of many concurrent claims of a key wins", async () => {
    if (!available()) return;
    const key = `${unique()}seen:telegram:default:42:7`;
    const results = await Promise.all(Array.from({ length: 20 }, () => claimOnce(shared.redis, key, 60)));
    expect(results.filter(Boolean)).toHaveLength(1);
  });
});
