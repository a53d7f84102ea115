// Gateways of one fleet in this process (fleet.enabled on a real Redis, a key prefix per test), on top of harness.ts.
import { randomUUID } from "node:crypto";
// @ts-expect-error -- a plain .mjs helper of the private vitest preset
import { useRedis } from "@gateway/vitest-preset/redis";
import { checkAvailable, until } from "@gateway/vitest-preset/wait";
import { Redis } from "ioredis";
import { afterAll, beforeAll } from "vitest";
import { startGateway, type TestGateway } from "./harness.js";

const prefix = `gateway-test-fleet-${randomUUID().slice(0, 8)}:`;
let redisHandle: { url: string; stop(): Promise<void> } | undefined;
beforeAll(async () => {
  redisHandle = await useRedis();
});
afterAll(async () => {
  if (!redisHandle) return;
  const redis = new Redis(redisHandle.url);
  for (const key of await redis.keys(`${prefix}*`)) await redis.del(key);
  redis.disconnect();
  await redisHandle.stop();
});

/** Whether Redis is there (skips loudly outside CI when not). */
export const redisAvailable = (): boolean =>
  checkAvailable(redisHandle !== undefined, "Redis (REDIS_URL, 127.0.0.1:6379 or redis-server)");

/** A key prefix of its own for one fleet. */
export const fleetPrefix = (): string => `${prefix}${randomUUID().slice(0, 8)}:`;

/**
 * An instance of the fleet under `keyPrefix`; resolves once its device store reads the fleet's. Every instance has
 * the same config file (its id comes from GATEWAY_FLEET_INSTANCE_ID), as fleet-wide config edits need.
 */
export async function fleetInstance(
  id: string,
  keyPrefix: string,
  config: Record<string, unknown> = {},
): Promise<TestGateway> {
  const gateway = await startGateway(
    {
      redis: { url: redisHandle!.url, keyPrefix: `${keyPrefix}bridge:` },
      fleet: { enabled: true, keyPrefix },
      gateway: { pairing: { autoApproveLoopback: false } },
      ...config,
    },
    { GATEWAY_FLEET_INSTANCE_ID: id },
  );
  await until(() => gateway.gateway.devices.store.staleness() === undefined, {
    message: `instance ${id} to read the fleet's devices`,
  });
  return gateway;
}
