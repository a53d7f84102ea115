import type { CronEvent } from "@gateway/protocol";
import type { CronServiceOptions } from "./cron-service-options.js";
import type { CronStore } from "./cron-store.js";
import type { Job } from "./job-store.js";

/** What the parts of the scheduler share: its options, store and clock, the jobs known now, events and writes. */
export interface CronContext {
  readonly options: CronServiceOptions;
  readonly store: CronStore;
  now(): number;
  /** The jobs as this instance knows them now (a new array once the store's jobs are taken in again). */
  jobs(): Job[];
  /** The job with this id as known now (a run checks it was not removed or replaced meanwhile). */
  get(id: string): Job | undefined;
  /** Tell the clients (`cron` event). */
  event(payload: CronEvent): void;
  /** A write a run cannot do without failing: logged, and the scheduler goes on with what it has in memory. */
  persist(what: string, write: Promise<void>): Promise<void>;
}
