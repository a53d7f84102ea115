import type { Job } from "./job-store.js";
import { nextRunAt } from "./schedule.js";

/** Set the job's next due time after `afterMs` (none when disabled or when its schedule has no more). */
export function scheduleNext(job: Job, afterMs: number): void {
  const next = job.enabled ? nextRunAt(job.schedule, afterMs, job.id) : undefined;
  if (next === undefined) delete job.state.nextRunAtMs;
  else job.state.nextRunAtMs = next;
}
