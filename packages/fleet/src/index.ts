export { FleetConfigSection } from "./config.js";
export { type FleetClaim, FleetIdempotency, type FleetIdempotencyOptions } from "./fleet-idempotency.js";
export { claimOnce, type FleetMember, FleetRegistry, type FleetRegistryOptions } from "./fleet-registry.js";
export { Lease, type LeaseHolder, type LeaseOptions } from "./lease.js";
export { type HeldLease, LeaseManager, type LeaseManagerOptions } from "./lease-manager.js";
export {
  SharedRecordError,
  type SharedRecordListener,
  SharedRecords,
  type SharedRecordsOptions,
} from "./shared-records.js";
