import { randomUUID } from "node:crypto";
import type {
  CronAddParams,
  CronEvent,
  CronJobPatch,
  CronListParams,
  CronListResult,
  CronRunsParams,
  CronRunsResult,
  CronStatusResult,
} from "@gateway/protocol";
import { invalidRequest } from "@gateway/protocol";
import type { CronContext } from "./cron-context.js";
import type { CronServiceOptions } from "./cron-service-options.js";
import type { CronStore } from "./cron-store.js";
import { newJob, patchedJob, restoreJob } from "./job-edits.js";
import { listJobs, nextWakeAt } from "./job-listing.js";
import { executeRun } from "./job-run.js";
import { recordInterrupted, scheduleNext } from "./job-state.js";
import { type Job, JobStore, type UnfinishedRun, unfinishedRuns } from "./job-store.js";
import { runHistory } from "./run-history.js";
import { RunQueue } from "./run-queue.js";
import { nextRunAt } from "./schedule.js";
import { WakeTimer } from "./wake-timer.js";

/**
 * The scheduler: jobs in `cron/jobs.json`, a run log per job with a "started" record written before each run (so a
 * run cut short by a crash is reported after the restart, never silently lost), catch-up for runs missed while down,
 * a concurrency cap, per-job timeouts, delivery to a channel or a webhook (retried with backoff), and the job state
 * the protocol exposes. One timer, armed for the next due job.
 */
export class CronService {
  readonly store: CronStore;
  #jobs: Job[] = [];
  readonly #timer: WakeTimer;
  readonly #queue: RunQueue;
  readonly #context: CronContext;
  /** `scheduling`: runs jobs when due; `following`: serves the jobs of a shared store another instance schedules. */
  #mode: "stopped" | "following" | "scheduling" = "stopped";
  #syncing: Promise<void> = Promise.resolve();
  readonly #now: () => number;
  /** Due times skipped since start (missed while the gateway was down and not caught up). */
  #missedRuns = 0;

  constructor(readonly options: CronServiceOptions) {
    this.store =
      options.store ??
      new JobStore(options.stateDir, options.maxLogBytes, {
        onProblem: (problem) =>
          options.host.log?.warn(
            `${problem.path} could not be used (${problem.reason}); moved to ${problem.movedTo}. No jobs were loaded from it: add them again or repair the file and move it back.`,
          ),
      });
    this.#now = options.now ?? Date.now;
    this.#context = {
      options,
      store: this.store,
      now: () => this.#now(),
      jobs: () => this.#jobs,
      get: (id) => this.get(id),
      event: (payload) => this.#event(payload),
      persist: (what, write) => this.#persist(what, write),
    };
    this.#timer = new WakeTimer(() => this.runDue(), options.recheckMs ?? 60_000);
    this.#queue = new RunQueue({
      maxConcurrent: options.maxConcurrentRuns ?? 1,
      find: (id) => this.get(id),
      execute: (job, runId, due) =>
        executeRun(this.#context, job, runId, due).catch((error: unknown) =>
          options.host.log?.warn(`cron: ${job.name}: the run failed: ${(error as Error).message}`),
        ),
      ended: () => this.#arm(),
    });
  }

  /**
   * Load jobs, report interrupted runs, catch up on missed ones (an interrupted scheduled run counts as missed: the
   * catch-up policy decides whether it runs again), and arm the timer.
   */
  async start(): Promise<void> {
    this.#merge(await this.store.load());
    const now = this.#now();
    /** Per job, the interrupted scheduled run whose due time is caught up (its re-run names it). */
    const interrupted = new Map<string, UnfinishedRun>();
    for (const job of this.#jobs) {
      for (const run of await this.#unfinished(job.id)) {
        await this.#reportInterrupted(job, run);
        if (run.dueAtMs === undefined || job.schedule.kind === "at" || !job.enabled) continue;
        const earliest = interrupted.get(job.id);
        if (earliest === undefined || run.dueAtMs < earliest.dueAtMs!) interrupted.set(job.id, run);
      }
      if (job.state.runningAtMs !== undefined) delete job.state.runningAtMs;
      const retry = interrupted.get(job.id);
      if (retry && (job.state.nextRunAtMs === undefined || retry.dueAtMs! < job.state.nextRunAtMs))
        job.state.nextRunAtMs = retry.dueAtMs!;
    }
    this.#mode = "scheduling";
    const policy = this.options.catchUp ?? "once";
    for (const job of this.#jobs) {
      const due = job.state.nextRunAtMs;
      if (!job.enabled || due === undefined || due > now) {
        if (job.enabled && due === undefined) scheduleNext(job, now);
        continue;
      }
      const dueTimes: number[] = [];
      for (let at: number | undefined = due; at !== undefined && at <= now && dueTimes.length < 1_000; )
        dueTimes.push(at), (at = nextRunAt(job.schedule, at, job.id));
      const runs =
        policy === "skip" ? 0 : policy === "all" ? Math.min(dueTimes.length, this.options.catchUpMax ?? 10) : 1;
      await this.#reportMissed(job, dueTimes, runs, policy);
      if (runs === 0) scheduleNext(job, now);
      const retry = interrupted.get(job.id)?.dueAtMs === dueTimes[0] ? interrupted.get(job.id) : undefined;
      // `once` stands for every missed due time: it re-runs the interrupted one, else it is the latest.
      const dueOf = (index: number) =>
        policy === "once" && !retry ? dueTimes[dueTimes.length - 1]! : dueTimes[index]!;
      for (let index = 0; index < runs; index++)
        this.#queue.enqueue(job.id, randomUUID(), {
          dueAtMs: dueOf(index),
          ...(index === 0 && retry ? { retryOf: retry.runId } : {}),
        });
    }
    await this.#persist("save the jobs", this.store.save(this.#jobs, { state: this.#jobs }));
    this.#arm();
  }

  /**
   * Serve the jobs of a shared store without running them (another instance of the fleet runs the scheduler):
   * `cron.*` reads and edits them, `cron.run` hands the run to the scheduler.
   */
  async follow(): Promise<void> {
    // Following before the load: when it fails (the store unreachable), the next sync() loads.
    this.#mode = "following";
    this.#merge(await this.store.load());
  }

  /** Whether this instance runs the jobs when they are due. */
  get scheduling(): boolean {
    return this.#mode === "scheduling";
  }

  /**
   * With a shared store: take in what other instances changed (jobs added, edited, removed; runs asked for). Calls
   * queue up, so whatever changed before a call is seen when it resolves. A no-op with the file store.
   */
  sync(): Promise<void> {
    if (!this.store.changed || this.#mode === "stopped") return Promise.resolve();
    const next = this.#syncing.then(() => this.#syncNow());
    this.#syncing = next.catch(() => {});
    return next;
  }

  async #syncNow(): Promise<void> {
    if (await this.store.changed!()) {
      this.#merge(await this.store.load());
      this.#arm();
    }
    if (this.#mode === "scheduling" && this.store.takeRunRequests)
      for (const request of await this.store.takeRunRequests())
        if (this.get(request.jobId)) this.#queue.enqueue(request.jobId, request.runId);
  }

  /**
   * Take in the jobs as the store has them, keeping the objects of jobs already known (runs in progress hold them).
   * The scheduler keeps its own state of a job whose definition did not change: it is the only one that writes it.
   */
  #merge(fresh: Job[]): void {
    const known = new Map(this.#jobs.map((job) => [job.id, job]));
    this.#jobs = fresh.map((next) => {
      const current = known.get(next.id);
      if (!current) return next;
      const runningAtMs = this.#queue.isRunning(next.id) ? current.state.runningAtMs : undefined;
      const state =
        this.#mode === "scheduling" && current.updatedAtMs === next.updatedAtMs ? current.state : next.state;
      for (const key of Object.keys(current)) delete (current as Record<string, unknown>)[key];
      Object.assign(current, next, { state: runningAtMs === undefined ? state : { ...state, runningAtMs } });
      return current;
    });
  }

  async #unfinished(jobId: string): Promise<UnfinishedRun[]> {
    const records = await this.store.records(jobId);
    return unfinishedRuns(records).filter((run) => !this.#queue.isRunningRun(run.runId));
  }

  /**
   * Due times that passed while the gateway was down and will not run (all of them for `skip`, all but one for
   * `once`, those past `catchUpMax` for `all`): one `skipped` entry in the run log saying how many and why, a `cron`
   * event, the log, and a system event for the next heartbeat. Nothing is skipped in silence.
   */
  async #reportMissed(job: Job, dueTimes: readonly number[], runs: number, policy: string): Promise<void> {
    const skipped = dueTimes.length - runs;
    if (skipped <= 0) return;
    this.#missedRuns += skipped;
    const first = new Date(dueTimes[0]!).toISOString();
    const last = new Date(dueTimes[dueTimes.length - 1]!).toISOString();
    const span = dueTimes.length === 1 ? `at ${first}` : `from ${first} to ${last}`;
    const ran = runs === 0 ? "none run" : `${runs} run now`;
    const error = `missed: ${dueTimes.length} due time(s) ${span} passed while the gateway was down; ${skipped} skipped, ${ran} (catchUp: ${policy})`;
    const ts = this.#now();
    await this.#persist(
      "record missed runs",
      this.store.append({
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
    this.options.host.log?.warn(`cron: ${job.name}: ${error}`);
    this.#event({ jobId: job.id, action: "finished", runAtMs: dueTimes[0]!, status: "skipped", error });
    await this.options.host
      .systemEvent(`Cron job "${job.name}" ${error}.`, {
        sessionKey: this.options.host.mainSessionKey,
        wake: "next-heartbeat",
      })
      .catch(() => {});
  }

  /**
   * A state write a run cannot do without failing the run (a full disk): logged, and the gateway goes on with what
   * it has in memory. Writes a caller asked for (cron.add/update/remove) are not tolerated this way: they fail.
   */
  async #persist(what: string, write: Promise<void>): Promise<void> {
    try {
      await write;
    } catch (error) {
      this.options.host.log?.warn(`cron: could not ${what}: ${(error as Error).message}`);
    }
  }

  /** Stop the timer; running jobs finish on their own. */
  stop(): void {
    this.#mode = "stopped";
    this.#timer.clear();
  }

  /** Resolves when no run is going or waiting (tests, shutdown). */
  idle(): Promise<void> {
    return this.#queue.idle();
  }

  /** Run every job that is due now (the timer calls this; tests with a fake clock call it directly). */
  runDue(): void {
    const now = this.#now();
    for (const job of this.#jobs)
      if (
        job.enabled &&
        job.state.nextRunAtMs !== undefined &&
        job.state.nextRunAtMs <= now &&
        !this.#queue.has(job.id)
      ) {
        const dueAtMs = job.state.nextRunAtMs;
        delete job.state.nextRunAtMs; // taken: the next one is computed when this run ends
        this.#queue.enqueue(job.id, randomUUID(), { dueAtMs });
      }
    this.#arm();
  }

  list(params: CronListParams = {}): CronListResult {
    return listJobs(this.#jobs, params);
  }

  status(): CronStatusResult {
    return {
      enabled: this.#mode !== "stopped",
      storePath: this.store.location,
      jobs: this.#jobs.length,
      running: this.#queue.running,
      nextWakeAtMs: nextWakeAt(this.#jobs),
      missedRuns: this.#missedRuns,
    };
  }

  get(id: string): Job | undefined {
    return this.#jobs.find((job) => job.id === id);
  }

  async add(params: CronAddParams): Promise<Job> {
    const job = newJob(params, this.#now());
    this.#jobs.push(job);
    try {
      await this.store.save(this.#jobs, { put: [job] });
    } catch (error) {
      // Not on disk, so not scheduled: a job the next start would not know must not run now either.
      this.#jobs.splice(this.#jobs.indexOf(job), 1);
      throw error;
    }
    this.#event({
      jobId: job.id,
      action: "added",
      ...(job.state.nextRunAtMs ? { nextRunAtMs: job.state.nextRunAtMs } : {}),
    });
    this.#arm();
    return job;
  }

  async update(id: string, patch: CronJobPatch): Promise<Job> {
    const job = this.#require(id);
    const next = patchedJob(job, patch, this.#now);
    const previous = structuredClone(job);
    Object.assign(job, next);
    try {
      await this.store.save(this.#jobs, { put: [job] });
    } catch (error) {
      restoreJob(job, previous);
      throw error;
    }
    this.#event({
      jobId: id,
      action: "updated",
      ...(job.state.nextRunAtMs ? { nextRunAtMs: job.state.nextRunAtMs } : {}),
    });
    this.#arm();
    return job;
  }

  async remove(id: string): Promise<boolean> {
    const index = this.#jobs.findIndex((job) => job.id === id);
    if (index < 0) return false;
    const [job] = this.#jobs.splice(index, 1);
    try {
      await this.store.save(this.#jobs, { removed: [id] });
    } catch (error) {
      this.#jobs.splice(index, 0, job!);
      throw error;
    }
    await this.store.archive(id);
    this.#event({ jobId: id, action: "removed" });
    this.#arm();
    return true;
  }

  /** Run a job now: `force` always, `due` only when due, `if-enabled` unless disabled. */
  async run(
    id: string,
    mode: "force" | "due" | "if-enabled" = "force",
  ): Promise<{ ran: boolean; runId?: string; reason?: "not-due" | "disabled" | "already-running" }> {
    const job = this.#require(id);
    if (this.#queue.isRunning(id)) return { ran: false, reason: "already-running" };
    if (mode === "if-enabled" && !job.enabled) return { ran: false, reason: "disabled" };
    if (mode === "due" && !(job.state.nextRunAtMs !== undefined && job.state.nextRunAtMs <= this.#now()))
      return { ran: false, reason: "not-due" };
    const runId = randomUUID();
    // In a fleet, runs happen where the scheduler runs (so a run in progress is never taken for an interrupted one).
    if (this.#mode === "following" && this.store.requestRun) await this.store.requestRun({ jobId: id, runId });
    else this.#queue.enqueue(id, runId);
    return { ran: true, runId };
  }

  /** Finished runs, newest first. */
  async runs(params: CronRunsParams = {}): Promise<CronRunsResult> {
    return runHistory(
      this.store,
      this.#jobs.map((job) => job.id),
      params,
    );
  }

  async #reportInterrupted(job: Job, run: UnfinishedRun): Promise<void> {
    const now = this.#now();
    const where = run.by ? ` on instance ${run.by}` : "";
    const error = `interrupted: the gateway stopped during this run (started ${new Date(run.ts).toISOString()}${where})`;
    await this.#persist(
      "record the interrupted run",
      this.store.append({
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
    this.options.host.log?.warn(`cron: ${job.name}: ${error}`);
    this.#event({ jobId: job.id, action: "finished", runId: run.runId, runAtMs: run.ts, status: "error", error });
    await this.options.host
      .systemEvent(`Cron job "${job.name}" was ${error}; it did not finish.`, {
        sessionKey: this.options.host.mainSessionKey,
        wake: "next-heartbeat",
      })
      .catch(() => {});
  }

  // ---- helpers -----------------------------------------------------------------------------------------------------

  #arm(): void {
    if (this.#mode !== "scheduling") this.#timer.clear();
    else this.#timer.set(nextWakeAt(this.#jobs), this.#now());
  }

  #require(id: string): Job {
    const job = this.get(id);
    if (!job) throw invalidRequest(`no cron job with id "${id}" (gateway cron list shows them)`);
    return job;
  }

  #event(payload: CronEvent): void {
    this.options.host.broadcast("cron", payload);
  }
}
