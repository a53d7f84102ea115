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
import { catchUpRuns } from "./catch-up.js";
import type { CronContext } from "./cron-context.js";
import type { CronServiceOptions } from "./cron-service-options.js";
import type { CronStore } from "./cron-store.js";
import { recoverInterrupted } from "./interrupted-runs.js";
import { newJob, patchedJob, restoreJob } from "./job-edits.js";
import { listJobs, nextWakeAt } from "./job-listing.js";
import { mergeJobs } from "./job-merge.js";
import { executeRun } from "./job-run.js";
import { type Job, JobStore, type UnfinishedRun } from "./job-store.js";
import { runHistory } from "./run-history.js";
import { RunQueue } from "./run-queue.js";
import { WakeTimer } from "./wake-timer.js";

/**
 * The scheduler: jobs in `cron/jobs.json`, a run log per job with a "started" record written before each run (so a
 * run cut short by a crash is reported after the restart, never silently lost), catch-up for runs missed while down,
 * a concurrency cap, per-job timeouts, delivery to a channel or a webhook (retried with backoff), and the job state
 * the protocol exposes. One timer, armed for the next due job. This class coordinates: a run is `executeRun`
 * (job-run.ts), a restart's recovery `recoverInterrupted` and `catchUpRuns`, the queue `RunQueue`, the timer `WakeTimer`.
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
    /** Per job, its earliest interrupted scheduled run (a caught-up run of its due time names it). */
    const interrupted = new Map<string, UnfinishedRun>();
    for (const job of this.#jobs) {
      const run = await recoverInterrupted(this.#context, job, (runId) => this.#queue.isRunningRun(runId));
      if (run) interrupted.set(job.id, run);
    }
    this.#mode = "scheduling";
    const skipped = (count: number) => {
      this.#missedRuns += count;
    };
    for (const job of this.#jobs) {
      for (const due of await catchUpRuns(this.#context, job, now, interrupted.get(job.id), skipped))
        this.#queue.enqueue(job.id, randomUUID(), due);
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

  /** Take in the jobs as the store has them (see mergeJobs). */
  #merge(fresh: Job[]): void {
    this.#jobs = mergeJobs(this.#jobs, fresh, {
      keepState: this.#mode === "scheduling",
      isRunning: (jobId) => this.#queue.isRunning(jobId),
    });
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
    const next = patchedJob(job, patch, this.#context.now);
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
