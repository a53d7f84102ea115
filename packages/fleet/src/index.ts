export { FleetConfigSection } from "./config.js";
export { FleetEvent, FleetEventBus, type FleetEventBusCounts, type FleetEventBusOptions } from "./event-bus.js";
export { type FleetClaim, FleetIdempotency, type FleetIdempotencyOptions } from "./fleet-idempotency.js";
export { claimOnce, type FleetMember, FleetRegistry, type FleetRegistryOptions } from "./fleet-registry.js";
export {
  type FleetCallOptions,
  FleetRpc,
  FleetRpcError,
  type FleetRpcErrorKind,
  type FleetRpcHandler,
  type FleetRpcOptions,
} from "./fleet-rpc.js";
export { Lease, type LeaseHolder, type LeaseOptions } from "./lease.js";
export { type HeldLease, LeaseManager, type LeaseManagerOptions } from "./lease-manager.js";
export {
  LeasedSessionPlacement,
  type LeasedSessionPlacementOptions,
  type LocalSessions,
} from "./leased-session-placement.js";
export { RedisCronStore, type RedisCronStoreOptions } from "./redis-cron-store.js";
export { RedisSessionStore, type RedisSessionStoreOptions, StaleSessionWriteError } from "./redis-session-store.js";
export {
  SharedRecordError,
  type SharedRecordListener,
  SharedRecords,
  type SharedRecordsOptions,
} from "./shared-records.js";
