// @gateway/cron — the public surface.
export { CronConfigSection, cronConfigSections, HeartbeatConfigSection } from "./config.js";
export type { CronHost, DeliveryTarget } from "./cron-host.js";
export { CronService } from "./cron-service.js";
export type { CronServiceOptions } from "./cron-service-options.js";
export type { CronStore, JobChange, RunRequest } from "./cron-store.js";
export {
  agentTurnRunner,
  type CronAgent,
  cronOptionsFromConfig,
  DEFAULT_HEARTBEAT_EVERY_MS,
  heartbeatOptionsFromConfig,
} from "./from-config.js";
export {
  DEFAULT_HEARTBEAT_PROMPT,
  HEARTBEAT_TOKEN,
  type HeartbeatHost,
  type HeartbeatOptions,
  HeartbeatService,
  inActiveHours,
  isEffectivelyEmpty,
  stripHeartbeatToken,
} from "./heartbeat.js";
export { jobIdOf } from "./job-id.js";
export {
  type Job,
  JobStore,
  type RunRecord,
  type StartedRecord,
  type UnfinishedRun,
  unfinishedRuns,
} from "./job-store.js";
export { registerCronMethods } from "./methods.js";
export { DEFAULT_STAGGER_MS, isTopOfHour, nextRunAt, parseDuration, staggerFor, validateSchedule } from "./schedule.js";
