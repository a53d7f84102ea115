import type { CronRunLogEntry } from "@gateway/protocol";
import type { CronContext } from "./cron-context.js";
import type { JobChange } from "./cron-store.js";
import { deliver } from "./delivery.js";
import { recordFinished } from "./job-state.js";
import type { Job, StartedRecord } from "./job-store.js";
import { claimRun } from "./run-claim.js";
import { runPayload } from "./run-payload.js";
import type { Due } from "./run-queue.js";

/**
 * One run of a job, start to end: its "started" record (claimed fleet-wide for a scheduled run of a shared store),
 * the payload, the delivery of its result, the job's new state, the "finished" record, and the `cron` events.
 */
export async function executeRun(context: CronContext, job: Job, runId: string, due: Due | undefined): Promise<void> {
  const { options, store } = context;
  const startedAt = context.now();
  const start: StartedRecord = {
    action: "started",
    ts: startedAt,
    jobId: job.id,
    runId,
    ...(due?.dueAtMs !== undefined ? { dueAtMs: due.dueAtMs } : {}),
    ...(due?.retryOf ? { retryOf: due.retryOf } : {}),
    ...(options.instanceId ? { by: options.instanceId } : {}),
  };
  if (!(await claimRun(context, job, start))) return;
  job.state.runningAtMs = startedAt;
  await context.persist("save the jobs", store.save(context.jobs(), { state: [job] }));
  context.event({ jobId: job.id, action: "started", runId, runAtMs: startedAt });
  const { status, error, summary, sessionKey, sessionId } = await runPayload(
    options.host,
    job,
    options.defaultTimeoutMs ?? 600_000,
  );
  const finishedAt = context.now();
  const delivery =
    status === "ok" ? await deliver(options, job, { runId, summary, status, startedAt, finishedAt }) : undefined;
  // A job removed or replaced meanwhile keeps no state of this run.
  let change: JobChange = {};
  if (context.get(job.id) === job) {
    change = recordFinished(job, { status, error, startedAt, finishedAt });
    if (change.removed) context.jobs().splice(context.jobs().indexOf(job), 1);
  }
  const entry: CronRunLogEntry = {
    ts: finishedAt,
    jobId: job.id,
    jobName: job.name,
    action: "finished",
    status,
    ...(error ? { error } : {}),
    ...(summary ? { summary: summary.slice(0, 2_000) } : {}),
    ...(delivery ?? { deliveryStatus: "not-requested" as const }),
    sessionKey,
    ...(sessionId ? { sessionId } : {}),
    runId,
    runAtMs: startedAt,
    durationMs: Math.max(0, finishedAt - startedAt),
    ...(job.state.nextRunAtMs ? { nextRunAtMs: job.state.nextRunAtMs } : {}),
  };
  await context.persist("record the run", store.append(entry));
  await context.persist("save the jobs", store.save(context.jobs(), change));
  options.onRunFinished?.(status);
  context.event({
    jobId: job.id,
    action: "finished",
    runId,
    runAtMs: startedAt,
    durationMs: entry.durationMs!,
    status,
    ...(error ? { error } : {}),
    ...(summary ? { summary: summary.slice(0, 500) } : {}),
    ...(job.state.nextRunAtMs ? { nextRunAtMs: job.state.nextRunAtMs } : {}),
  });
  if (change.removed) context.event({ jobId: job.id, action: "removed" });
}
