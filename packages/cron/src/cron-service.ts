import { randomUUID } from "node:crypto";
import type {
  CronAddParams,
  CronEvent,
  CronJobPatch,
  CronListParams,
  CronListResult,
  CronRunLogEntry,
  CronRunStatus,
  CronRunsParams,
  CronRunsResult,
  CronStatusResult,
} from "@gateway/protocol";
import { invalidRequest } from "@gateway/protocol";
import type { CronServiceOptions } from "./cron-service-options.js";
import type { CronStore, JobChange } from "./cron-store.js";
import { newJob, patchedJob, restoreJob } from "./job-edits.js";
import { listJobs, nextWakeAt } from "./job-listing.js";
import { scheduleNext } from "./job-state.js";
import { type Job, JobStore, type StartedRecord, type UnfinishedRun, unfinishedRuns } from "./job-store.js";
import { runHistory } from "./run-history.js";
import { type Due, RunQueue } from "./run-queue.js";
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
    this.#timer = new WakeTimer(() => this.runDue(), options.recheckMs ?? 60_000);
    this.#queue = new RunQueue({
      maxConcurrent: options.maxConcurrentRuns ?? 1,
      find: (id) => this.get(id),
      execute: (job, runId, due) =>
        this.#execute(job, runId, due).catch((error: unknown) =>
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

  // ---- running ---------------------------------------------------------------------------------------------------

  async #execute(job: Job, runId: string, due: Due | undefined): Promise<void> {
    const host = this.options.host;
    const startedAt = this.#now();
    const start: StartedRecord = {
      action: "started",
      ts: startedAt,
      jobId: job.id,
      runId,
      ...(due?.dueAtMs !== undefined ? { dueAtMs: due.dueAtMs } : {}),
      ...(due?.retryOf ? { retryOf: due.retryOf } : {}),
      ...(this.options.instanceId ? { by: this.options.instanceId } : {}),
    };
    if (!(await this.#claim(job, start))) return;
    job.state.runningAtMs = startedAt;
    await this.#persist("save the jobs", this.store.save(this.#jobs, { state: [job] }));
    this.#event({ jobId: job.id, action: "started", runId, runAtMs: startedAt });
    let status: CronRunStatus = "ok";
    let error: string | undefined;
    let summary = "";
    let sessionKey = host.mainSessionKey;
    let sessionId: string | undefined;
    try {
      if (job.payload.kind === "systemEvent") {
        summary = job.payload.text;
        await host.systemEvent(job.payload.text, { sessionKey, wake: job.wakeMode });
      } else {
        if (job.sessionTarget === "isolated") sessionKey = `cron:${job.id}`;
        const timeoutMs =
          job.payload.timeoutSeconds !== undefined && job.payload.timeoutSeconds > 0
            ? job.payload.timeoutSeconds * 1000
            : (this.options.defaultTimeoutMs ?? 600_000);
        const result = await host.agentTurn(job.payload.message, { sessionKey, timeoutMs });
        summary = result.text;
        sessionId = result.sessionId;
        if (result.status !== "ok") {
          status = "error";
          error = result.error ?? `the agent turn ${result.status === "aborted" ? "was aborted (timeout?)" : "failed"}`;
        }
      }
    } catch (failure) {
      status = "error";
      error = (failure as Error).message;
    }
    const finishedAt = this.#now();
    const delivery =
      status === "ok" ? await this.#deliver(job, { runId, summary, status, startedAt, finishedAt }) : undefined;
    const stillThere = this.get(job.id) === job;
    let change: JobChange = {};
    if (stillThere) {
      change = { state: [job] };
      const state = job.state;
      delete state.runningAtMs;
      state.lastRunAtMs = startedAt;
      state.lastStatus = status;
      state.lastRunStatus = status;
      state.lastDurationMs = Math.max(0, finishedAt - startedAt);
      state.consecutiveErrors = status === "error" ? (state.consecutiveErrors ?? 0) + 1 : 0;
      if (error) state.lastError = error;
      else delete state.lastError;
      if (job.schedule.kind === "at") {
        if (status === "ok" && job.deleteAfterRun !== false) {
          this.#jobs.splice(this.#jobs.indexOf(job), 1);
          change = { removed: [job.id] };
        } else {
          job.enabled = false;
          change = { put: [job] };
        }
        delete state.nextRunAtMs;
      } else if (state.nextRunAtMs === undefined || state.nextRunAtMs <= finishedAt) scheduleNext(job, finishedAt);
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
    await this.#persist("record the run", this.store.append(entry));
    await this.#persist("save the jobs", this.store.save(this.#jobs, change));
    this.options.onRunFinished?.(status);
    this.#event({
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
    if (stillThere && job.schedule.kind === "at" && status === "ok" && job.deleteAfterRun !== false)
      this.#event({ jobId: job.id, action: "removed" });
  }

  async #deliver(
    job: Job,
    run: { runId: string; summary: string; status: CronRunStatus; startedAt: number; finishedAt: number },
  ): Promise<Pick<CronRunLogEntry, "delivered" | "deliveryStatus" | "deliveryError"> | undefined> {
    const delivery = job.delivery;
    if (!delivery || delivery.mode === "none") return { deliveryStatus: "not-requested" };
    try {
      if (delivery.mode === "announce") {
        if (!this.options.host.deliver) throw new Error("no channels are configured to announce to");
        const target =
          !delivery.channel || delivery.channel === "last"
            ? "last"
            : {
                channel: delivery.channel,
                ...(delivery.to ? { to: delivery.to } : {}),
                ...(delivery.accountId ? { accountId: delivery.accountId } : {}),
                ...(delivery.threadId !== undefined ? { threadId: String(delivery.threadId) } : {}),
              };
        await this.options.host.deliver(target, run.summary);
      } else await this.#postWebhook(delivery.to!, job, run);
      return { delivered: true, deliveryStatus: "delivered" };
    } catch (error) {
      this.options.host.log?.warn(`cron: ${job.name}: delivery failed: ${(error as Error).message}`);
      return { delivered: false, deliveryStatus: "not-delivered", deliveryError: (error as Error).message };
    }
  }

  /** POST the finished run as JSON (bearer token when configured); 5xx, 429 and network errors are retried. */
  async #postWebhook(
    url: string,
    job: Job,
    run: { runId: string; summary: string; status: CronRunStatus; startedAt: number; finishedAt: number },
  ): Promise<void> {
    const settings = this.options.webhook ?? {};
    const attempts = settings.attempts ?? 4;
    const doFetch = this.options.fetch ?? fetch;
    const body = JSON.stringify({
      jobId: job.id,
      jobName: job.name,
      runId: run.runId,
      status: run.status,
      summary: run.summary,
      runAtMs: run.startedAt,
      finishedAtMs: run.finishedAt,
      durationMs: run.finishedAt - run.startedAt,
    });
    let lastError = "";
    for (let attempt = 0; attempt < attempts; attempt++) {
      if (attempt > 0)
        await new Promise((resolve) => setTimeout(resolve, (settings.backoffMs ?? 1_000) * 2 ** (attempt - 1)));
      try {
        const response = await doFetch(url, {
          method: "POST",
          headers: {
            "content-type": "application/json",
            ...(settings.token ? { authorization: `Bearer ${settings.token}` } : {}),
          },
          body,
          signal: AbortSignal.timeout(settings.timeoutMs ?? 10_000),
        });
        if (response.ok) return;
        lastError = `${url} answered ${response.status}`;
        if (response.status < 500 && response.status !== 429) break;
      } catch (error) {
        lastError = `${url}: ${(error as Error).message}`;
      }
    }
    throw new Error(`webhook failed after retries: ${lastError}`);
  }

  /**
   * Record the start of a run. A scheduled run of a shared store first claims its due time fleet-wide: when the
   * claim fails (another instance ran it, or the store cannot say), the run does not happen and the job moves on.
   */
  async #claim(job: Job, start: StartedRecord): Promise<boolean> {
    const { dueAtMs } = start;
    if (dueAtMs === undefined || !this.store.claimStart) {
      await this.#persist("record the run's start", this.store.append(start));
      return true;
    }
    const claimed = await this.store.claimStart({ ...start, dueAtMs }).catch((error: Error) => {
      this.options.host.log?.warn(
        `cron: ${job.name}: not run at ${new Date(dueAtMs).toISOString()}: cannot claim the run in the shared store (${error.message}); the next due time is tried as usual`,
      );
      return false;
    });
    if (claimed) return true;
    if (this.get(job.id) === job) {
      scheduleNext(job, Math.max(dueAtMs, this.#now()));
      await this.#persist("save the jobs", this.store.save(this.#jobs, { state: [job] }));
    }
    return false;
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
    job.state.lastStatus = "error";
    job.state.lastRunStatus = "error";
    job.state.lastError = error;
    job.state.lastRunAtMs = run.ts;
    job.state.consecutiveErrors = (job.state.consecutiveErrors ?? 0) + 1;
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
