// The gateway in a fleet (fleet.enabled): each part of what instances share, composed onto one gateway.
export { attachFleetConfig } from "./config.js";
export { attachFleetCron } from "./cron.js";
export { attachFleetDelivery } from "./delivery.js";
export { attachFleetEvents } from "./events.js";
export { attachFleetIdempotency } from "./idempotency.js";
export { attachFleet, type FleetMembership } from "./membership.js";
export { attachFleetPairing } from "./pairing.js";
export { attachFleetSessions } from "./sessions.js";
