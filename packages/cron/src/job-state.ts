import type { CronRunStatus } from "@gateway/protocol";
import type { JobChange } from "./cron-store.js";
import type { Job, UnfinishedRun } from "./job-store.js";
import { nextRunAt } from "./schedule.js";

/** Set the job's next due time after `afterMs` (none when disabled or when its schedule has no more). */
export function scheduleNext(job: Job, afterMs: number): void {
  const next = job.enabled ? nextRunAt(job.schedule, afterMs, job.id) : undefined;
  if (next === undefined) delete job.state.nextRunAtMs;
  else job.state.nextRunAtMs = next;
}

/**
 * Record a run that ended in the job's state and schedule its next one. A one-shot (`at`) job that succeeded is
 * removed (unless `deleteAfterRun: false`; the caller takes it out of the jobs), else disabled. Returns what to save.
 */
export function recordFinished(
  job: Job,
  run: { status: CronRunStatus; error?: string | undefined; startedAt: number; finishedAt: number },
): JobChange {
  const { status, error, startedAt, finishedAt } = run;
  const state = job.state;
  delete state.runningAtMs;
  state.lastRunAtMs = startedAt;
  state.lastStatus = status;
  state.lastRunStatus = status;
  state.lastDurationMs = Math.max(0, finishedAt - startedAt);
  state.consecutiveErrors = status === "error" ? (state.consecutiveErrors ?? 0) + 1 : 0;
  if (error) state.lastError = error;
  else delete state.lastError;
  if (job.schedule.kind !== "at") {
    if (state.nextRunAtMs === undefined || state.nextRunAtMs <= finishedAt) scheduleNext(job, finishedAt);
    return { state: [job] };
  }
  delete state.nextRunAtMs;
  if (status === "ok" && job.deleteAfterRun !== false) return { removed: [job.id] };
  job.enabled = false;
  return { put: [job] };
}

/** Record a run the gateway stopped during as a failure of the job. */
export function recordInterrupted(job: Job, run: UnfinishedRun, error: string): void {
  job.state.lastStatus = "error";
  job.state.lastRunStatus = "error";
  job.state.lastError = error;
  job.state.lastRunAtMs = run.ts;
  job.state.consecutiveErrors = (job.state.consecutiveErrors ?? 0) + 1;
}
