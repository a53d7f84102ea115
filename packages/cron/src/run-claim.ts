import type { CronContext } from "./cron-context.js";
import { scheduleNext } from "./job-state.js";
import type { Job, StartedRecord } from "./job-store.js";

/**
 * Record the start of a run. A scheduled run of a shared store first claims its due time fleet-wide: when the
 * claim fails (another instance ran it, or the store cannot say), the run does not happen and the job moves on.
 */
export async function claimRun(context: CronContext, job: Job, start: StartedRecord): Promise<boolean> {
  const { store } = context;
  const { dueAtMs } = start;
  if (dueAtMs === undefined || !store.claimStart) {
    await context.persist("record the run's start", store.append(start));
    return true;
  }
  const claimed = await store.claimStart({ ...start, dueAtMs }).catch((error: Error) => {
    context.options.host.log?.warn(
      `cron: ${job.name}: not run at ${new Date(dueAtMs).toISOString()}: cannot claim the run in the shared store (${error.message}); the next due time is tried as usual`,
    );
    return false;
  });
  if (claimed) return true;
  if (context.get(job.id) === job) {
    scheduleNext(job, Math.max(dueAtMs, context.now()));
    await context.persist("save the jobs", store.save(context.jobs(), { state: [job] }));
  }
  return false;
}
