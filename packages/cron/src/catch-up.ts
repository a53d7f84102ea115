import type { CronContext } from "./cron-context.js";
import { scheduleNext } from "./job-state.js";
import type { Job, UnfinishedRun } from "./job-store.js";
import type { Due } from "./run-queue.js";
import { nextRunAt } from "./schedule.js";

/**
 * After a restart: the runs of a job whose due times passed while the gateway was down, as the `catchUp` policy
 * says (`once`, `skip`, or `all` up to `catchUpMax`). `interrupted` is its earliest interrupted scheduled run: when
 * its due time is caught up, the first run re-runs it. The due times not run are reported and told to `onSkipped`.
 */
export async function catchUpRuns(
  context: CronContext,
  job: Job,
  now: number,
  interrupted: UnfinishedRun | undefined,
  onSkipped: (count: number) => void,
): Promise<Due[]> {
  const policy = context.options.catchUp ?? "once";
  const due = job.state.nextRunAtMs;
  if (!job.enabled || due === undefined || due > now) {
    if (job.enabled && due === undefined) scheduleNext(job, now);
    return [];
  }
  const dueTimes = missedDueTimes(job, due, now);
  const runs =
    policy === "skip" ? 0 : policy === "all" ? Math.min(dueTimes.length, context.options.catchUpMax ?? 10) : 1;
  await reportMissed(context, job, dueTimes, runs, policy, onSkipped);
  if (runs === 0) scheduleNext(job, now);
  const retry = interrupted?.dueAtMs === dueTimes[0] ? interrupted : undefined;
  // `once` stands for every missed due time: it re-runs the interrupted one, else it is the latest.
  const dueOf = (index: number) => (policy === "once" && !retry ? dueTimes[dueTimes.length - 1]! : dueTimes[index]!);
  return Array.from({ length: runs }, (_, index) => ({
    dueAtMs: dueOf(index),
    ...(index === 0 && retry ? { retryOf: retry.runId } : {}),
  }));
}

/** The job's due times from `firstDue` to `now` (at most 1000: a schedule every second, down for a day, stops there). */
function missedDueTimes(job: Job, firstDue: number, now: number): number[] {
  const dueTimes: number[] = [];
  for (
    let at: number | undefined = firstDue;
    at !== undefined && at <= now && dueTimes.length < 1_000;
    at = nextRunAt(job.schedule, at, job.id)
  )
    dueTimes.push(at);
  return dueTimes;
}

/**
 * Due times that passed while the gateway was down and will not run (all of them for `skip`, all but one for
 * `once`, those past `catchUpMax` for `all`): one `skipped` entry in the run log saying how many and why, a `cron`
 * event, the log, and a system event for the next heartbeat. Nothing is skipped in silence.
 */
async function reportMissed(
  context: CronContext,
  job: Job,
  dueTimes: readonly number[],
  runs: number,
  policy: string,
  onSkipped: (count: number) => void,
): Promise<void> {
  const { host } = context.options;
  const skipped = dueTimes.length - runs;
  if (skipped <= 0) return;
  onSkipped(skipped);
  const first = new Date(dueTimes[0]!).toISOString();
  const last = new Date(dueTimes[dueTimes.length - 1]!).toISOString();
  const span = dueTimes.length === 1 ? `at ${first}` : `from ${first} to ${last}`;
  const ran = runs === 0 ? "none run" : `${runs} run now`;
  const error = `missed: ${dueTimes.length} due time(s) ${span} passed while the gateway was down; ${skipped} skipped, ${ran} (catchUp: ${policy})`;
  const ts = context.now();
  await context.persist(
    "record missed runs",
    context.store.append({
      ts,
      jobId: job.id,
      jobName: job.name,
      action: "finished",
      status: "skipped",
      error,
      runAtMs: dueTimes[0]!,
      deliveryStatus: "not-requested",
    }),
  );
  host.log?.warn(`cron: ${job.name}: ${error}`);
  context.event({ jobId: job.id, action: "finished", runAtMs: dueTimes[0]!, status: "skipped", error });
  await host
    .systemEvent(`Cron job "${job.name}" ${error}.`, { sessionKey: host.mainSessionKey, wake: "next-heartbeat" })
    .catch(() => {});
}
