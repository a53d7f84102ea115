import type { Job, RunRecord, StartedRecord } from "./job-store.js";

/** What a save changes: jobs written whole (added or edited), jobs whose scheduling state moved, jobs removed. */
export interface JobChange {
  /** Added or edited (definition and state). */
  readonly put?: readonly Job[];
  /** Only their `state` changed (the scheduler's bookkeeping: next run, last status). */
  readonly state?: readonly Job[];
  readonly removed?: readonly string[];
}

/** A run asked for with `cron.run` on an instance that does not run the scheduler. */
export interface RunRequest {
  jobId: string;
  runId: string;
}

/**
 * Where the scheduler keeps its jobs and run logs. The file store (`JobStore`, the default) serves one process; a
 * shared store lets several instances of a fleet see the same jobs and history, with the optional members below.
 */
export interface CronStore {
  /** Where the jobs live, as `cron.status` names it. */
  readonly location: string;
  load(): Job[] | Promise<Job[]>;
  /** Write a change; `all` is every job now (a store that writes one file needs it, a shared one writes `change`). */
  save(all: readonly Job[], change: JobChange): Promise<void>;
  /** Append one record to the job's run log. */
  append(record: RunRecord): Promise<void>;
  /** The job's records, oldest first. */
  records(jobId: string): Promise<RunRecord[]>;
  /** The records of every run log, of removed jobs too. */
  allRecords(): Promise<RunRecord[]>;
  /** Put a removed job's run log aside. */
  archive(jobId: string): Promise<void>;
  /**
   * Shared stores: append the start of a scheduled run only if this due time of the job was not started before
   * anywhere (a re-run of an interrupted run names it in `retryOf`). False: it was, and this run must not happen.
   */
  claimStart?(record: StartedRecord & { dueAtMs: number }): Promise<boolean>;
  /** Shared stores: whether another instance changed the jobs since this one last loaded them. */
  changed?(): Promise<boolean>;
  /** Shared stores: hand a run to the instance that runs the scheduler. */
  requestRun?(request: RunRequest): Promise<void>;
  /** Shared stores: the runs asked for, each taken once. */
  takeRunRequests?(): Promise<RunRequest[]>;
}
