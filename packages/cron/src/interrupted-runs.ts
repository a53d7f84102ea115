import type { CronContext } from "./cron-context.js";
import { recordInterrupted } from "./job-state.js";
import { type Job, type UnfinishedRun, unfinishedRuns } from "./job-store.js";

/**
 * After a restart: report each run of the job that started and never finished (none of `isRunningRun`'s, which go
 * on here), and clear its running mark. Returns the earliest interrupted scheduled run, the job's next due time moved
 * back to it: it counts as missed, and the catch-up policy decides whether it runs again.
 */
export async function recoverInterrupted(
  context: CronContext,
  job: Job,
  isRunningRun: (runId: string) => boolean,
): Promise<UnfinishedRun | undefined> {
  const records = await context.store.records(job.id);
  let earliest: UnfinishedRun | undefined;
  for (const run of unfinishedRuns(records).filter((unfinished) => !isRunningRun(unfinished.runId))) {
    await reportInterrupted(context, job, run);
    if (run.dueAtMs === undefined || job.schedule.kind === "at" || !job.enabled) continue;
    if (earliest === undefined || run.dueAtMs < earliest.dueAtMs!) earliest = run;
  }
  if (job.state.runningAtMs !== undefined) delete job.state.runningAtMs;
  if (earliest && (job.state.nextRunAtMs === undefined || earliest.dueAtMs! < job.state.nextRunAtMs))
    job.state.nextRunAtMs = earliest.dueAtMs!;
  return earliest;
}

/** A failed run in the run log and the job's state, the log, a `cron` event, and a system event for the next heartbeat. */
async function reportInterrupted(context: CronContext, job: Job, run: UnfinishedRun): Promise<void> {
  const { host } = context.options;
  const now = context.now();
  const where = run.by ? ` on instance ${run.by}` : "";
  const error = `interrupted: the gateway stopped during this run (started ${new Date(run.ts).toISOString()}${where})`;
  await context.persist(
    "record the interrupted run",
    context.store.append({
      ts: now,
      jobId: job.id,
      jobName: job.name,
      action: "finished",
      status: "error",
      error,
      runId: run.runId,
      runAtMs: run.ts,
      deliveryStatus: "unknown",
    }),
  );
  recordInterrupted(job, run, error);
  host.log?.warn(`cron: ${job.name}: ${error}`);
  context.event({ jobId: job.id, action: "finished", runId: run.runId, runAtMs: run.ts, status: "error", error });
  await host
    .systemEvent(`Cron job "${job.name}" was ${error}; it did not finish.`, {
      sessionKey: host.mainSessionKey,
      wake: "next-heartbeat",
    })
    .catch(() => {});
}
