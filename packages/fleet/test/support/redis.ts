// The Redis of a fleet test file: REDIS_URL, 127.0.0.1:6379 or a throwaway redis-server (a loud skip without one,
// never under CI). Every key the file writes sits under its own prefix and is removed after it; `cleanups` run after
// each test, last in first out.
import { randomUUID } from "node:crypto";
// @ts-expect-error -- a plain .mjs helper of the private vitest preset
import { useRedis } from "@gateway/vitest-preset/redis";
import { checkAvailable } from "@gateway/vitest-preset/wait";
import { Redis } from "ioredis";
import { afterAll, afterEach, beforeAll } from "vitest";

/** What a fleet test file gets: a command connection, the URL, its key prefix and per-test cleanups. */
export interface FleetTestRedis {
  /** A command connection (set once the file's beforeAll ran). */
  readonly redis: Redis;
  readonly url: string;
  /** Every key of this file starts with it. */
  readonly prefix: string;
  readonly cleanups: Array<() => unknown>;
  /** Whether a Redis could be had (says so loudly when not). */
  available(): boolean;
  /** A fresh prefix under the file's, for one test's keys. */
  unique(): string;
}

/** Set up the Redis of a test file named `name` (hooks registered here). */
export function fleetTestRedis(name: string): FleetTestRedis {
  const prefix = `gateway-test-${name}-${randomUUID().slice(0, 8)}:`;
  let handle: { url: string; stop(): Promise<void> } | undefined;
  let redis: Redis | undefined;
  const cleanups: Array<() => unknown> = [];
  beforeAll(async () => {
    handle = await useRedis();
    if (handle) redis = new Redis(handle.url);
  });
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  });
  afterAll(async () => {
    if (redis) for (const key of await redis.keys(`${prefix}*`)) await redis.del(key);
    redis?.disconnect();
    await handle?.stop();
  });
  return {
    get redis() {
      if (!redis) throw new Error("no Redis in this test run (check available() first)");
      return redis;
    },
    get url() {
      if (!handle) throw new Error("no Redis in this test run (check available() first)");
      return handle.url;
    },
    prefix,
    cleanups,
    available: () => checkAvailable(handle !== undefined, "Redis (REDIS_URL, 127.0.0.1:6379 or redis-server)"),
    unique: () => `${prefix}${randomUUID().slice(0, 8)}:`,
  };
}
