import { hostname } from "node:os";
import type { FleetConfigSection, FleetMember, HeldLease } from "@gateway/fleet";
import type { AccountOwnership, GatewayServer } from "@gateway/server";
import type { Redis } from "ioredis";

/** What `fleet.status` answers. */
export interface FleetStatus {
  enabled: true;
  self: string;
  leaseMs: number;
  members: FleetMember[];
}

/** The fleet's shared parts, once the fleet service has started (for the attach-* files that build on them). */
export interface FleetParts {
  /** This instance's id. */
  readonly id: string;
  /** Prefix of every fleet key (`fleet.keyPrefix`). */
  readonly keyPrefix: string;
  readonly leaseMs: number;
  /** The fleet's command connection (use `redis.duplicate()` for a subscriber or blocking reads). */
  readonly redis: Redis;
  readonly leases: import("@gateway/fleet").LeaseManager;
  readonly registry: import("@gateway/fleet").FleetRegistry;
  /** Calls to other instances (`rpc.call(id, method, params)`); `rpc.serve` before or after start, once per method. */
  readonly rpc: import("@gateway/fleet").FleetRpc;
}

/** This instance's part in a fleet: the account ownership the channels run under, and the fleet's status. */
export interface FleetMembership {
  readonly id: string;
  readonly ownership: AccountOwnership;
  status(): Promise<FleetStatus>;
  /** Resolves when the fleet service has started (Redis may still be unreachable then: commands queue). */
  parts(): Promise<FleetParts>;
}

/** How long a message key is remembered fleet-wide (a platform's redelivery comes well within it). */
const SEEN_TTL_SECONDS = 24 * 60 * 60;

/**
 * Join the fleet on the Redis of `redis.url` (fleet.enabled): a service that connects, registers this instance and
 * keeps its leases; channel accounts start only under their lease. Redis modules load only in fleet mode.
 */
export function attachFleet(
  server: GatewayServer,
  url: string,
  config: FleetConfigSection,
  version: string,
): FleetMembership {
  const id = config.instanceId ?? `${hostname()}-${process.pid}`;
  const keyPrefix = config.keyPrefix ?? "gateway:fleet:";
  const leaseMs = config.leaseMs ?? 8_000;
  const startedAt = Date.now();
  let parts: (FleetParts & { claimOnce: typeof import("@gateway/fleet").claimOnce }) | undefined;
  let resolveReady!: () => void;
  const ready = new Promise<void>((resolve) => {
    resolveReady = resolve;
  });

  server.registerService({
    name: "fleet",
    async start() {
      const [{ Redis }, fleet] = await Promise.all([import("ioredis"), import("@gateway/fleet")]);
      const redis = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 2, enableOfflineQueue: true });
      redis.on("error", (error) => server.logger.debug({ err: error }, "fleet: redis"));
      const leases = new fleet.LeaseManager(redis, { owner: id, keyPrefix, ttlMs: leaseMs });
      const registry = new fleet.FleetRegistry(redis, {
        keyPrefix,
        self: () => ({
          id,
          host: hostname(),
          pid: process.pid,
          url: server.address?.url ?? "",
          version,
          startedAt,
          owns: leases.owned().map((lease) => lease.name),
        }),
      });
      const rpc = new fleet.FleetRpc(redis, {
        id,
        keyPrefix,
        // A caller notices a dead instance within 1.5 × aliveMs: well within the lease.
        aliveMs: Math.max(1_000, Math.floor(leaseMs / 2)),
        onError: (error) => server.logger.debug({ err: error }, "fleet: rpc"),
      });
      parts = { id, keyPrefix, leaseMs, redis, leases, registry, rpc, claimOnce: fleet.claimOnce };
      await redis.connect().catch((error: Error) => {
        server.logger.warn(`fleet: cannot reach ${url} yet (${error.message}); channel accounts wait for it`);
      });
      await registry.join().catch(() => {});
      await rpc.start();
      server.logger.info(`fleet: instance ${id} joined (leases of ${leaseMs} ms on ${url})`);
      resolveReady();
    },
    async stop() {
      if (!parts) return;
      // Handing over at once is a courtesy: with Redis away the leases and the entry expire by themselves, so a stop
      // never waits out the client's retries (at most one second per step).
      const briefly = (step: Promise<unknown>) =>
        Promise.race([step.catch(() => {}), new Promise((resolve) => setTimeout(resolve, 1_000).unref())]);
      await briefly(parts.rpc.close());
      await briefly(parts.leases.close());
      await briefly(parts.registry.leave(id));
      parts.redis.disconnect();
    },
  });

  const ownership: AccountOwnership = {
    async acquire(key, signal) {
      await Promise.race([ready, new Promise((resolve) => signal.addEventListener("abort", resolve, { once: true }))]);
      if (signal.aborted) return undefined;
      const lease: HeldLease | undefined = await parts!.leases.acquire(`channel:${key}`, signal, (error) =>
        server.logger.debug({ err: error }, `fleet: lease channel:${key}`),
      );
      // Tell the fleet at once who runs what.
      if (lease) void parts!.registry.beat().catch(() => {});
      return lease;
    },
    async firstSeen(key) {
      await ready;
      return parts!.claimOnce(parts!.redis, `${keyPrefix}seen:${key}`, SEEN_TTL_SECONDS);
    },
  };

  return {
    id,
    ownership,
    async status() {
      await ready;
      return { enabled: true, self: id, leaseMs, members: await parts!.registry.members() };
    },
    async parts() {
      await ready;
      return parts!;
    },
  };
}
