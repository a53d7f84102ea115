import type { GatewayServer, SharedIdempotency } from "@gateway/server";
import type { FleetMembership } from "./membership.js";

/** A Redis problem with idempotency keys is logged at most this often (an outage would log every call). */
const PROBLEM_LOG_INTERVAL_MS = 10_000;

/**
 * In a fleet, idempotency keys are claimed in Redis (`SET NX`): the same key sent to two instances runs once and
 * the second gets what a local duplicate would. When Redis cannot be reached, calls are deduplicated on their
 * instance only, and the log says so.
 */
export function attachFleetIdempotency(server: GatewayServer, fleet: FleetMembership): void {
  let shared: Promise<import("@gateway/fleet").FleetIdempotency> | undefined;
  let lastProblemAt = 0;
  const onProblem = (message: string) => {
    if (Date.now() - lastProblemAt < PROBLEM_LOG_INTERVAL_MS) return;
    lastProblemAt = Date.now();
    server.logger.warn(`fleet: ${message}`);
  };
  const keys = () => {
    shared ??= Promise.all([fleet.parts(), import("@gateway/fleet")]).then(
      ([parts, { FleetIdempotency }]) =>
        new FleetIdempotency(parts.redis, { keyPrefix: parts.keyPrefix, self: parts.id, onProblem }),
    );
    return shared;
  };
  const idempotency: SharedIdempotency = {
    claim: async (id, ttlMs) => (await keys()).claim(id, ttlMs),
    settle: async (id, result, ttlMs) => (await keys()).settle(id, result, ttlMs),
    release: async (id) => (await keys()).release(id),
    onProblem,
  };
  server.shareIdempotency(idempotency);
}
