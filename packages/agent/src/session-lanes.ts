import { randomUUID } from "node:crypto";
import type { AgentRunEvent, AgentRuntime, StopReason } from "./runtime.js";

/** What happens to a message that arrives while its session is busy. */
export type QueueMode = "steer" | "followup" | "collect" | "interrupt";

/** How a submitted message ended. */
export interface RunOutcome {
  runId: string;
  stopReason: StopReason;
  text: string;
  error?: string;
}

/** Options of one submission. */
export interface SubmitOptions {
  /** @default the lanes' default mode */
  mode?: QueueMode;
  /** Every event of the run that answers this message. */
  onEvent?: (event: AgentRunEvent) => void;
}

/** The answer to `submit`. */
export interface Submission {
  runId: string;
  /** `started` when it runs now, `queued` when it waits behind the session's current run. */
  status: "started" | "queued";
  done: Promise<RunOutcome>;
}

/** Options of the lanes. */
export interface SessionLanesOptions {
  /** Runs in flight across all sessions. @default 4 */
  maxConcurrentRuns?: number;
  /** @default "steer" (which is `followup` for backends that cannot steer) */
  defaultMode?: QueueMode;
  /** How long `collect` waits for more messages before running them as one. @default 500 */
  collectDebounceMs?: number;
  /** A run that has not ended by then is aborted. @default 600000 */
  runTimeoutMs?: number;
}

interface Job {
  runId: string;
  inputs: string[];
  listeners: Array<(event: AgentRunEvent) => void>;
  resolvers: Array<(outcome: RunOutcome) => void>;
  collecting?: ReturnType<typeof setTimeout>;
}

interface Lane {
  active: { job: Job; controller: AbortController } | undefined;
  queue: Job[];
}

/**
 * One lane per session key: one run at a time per session, a global cap on concurrent runs, and queue modes for
 * messages that arrive while a session is busy — `followup` (run after), `collect` (wait for a pause, then run the
 * collected messages as one), `interrupt` (abort the current run, drop the queue, run the newest), `steer` (inject
 * into the running turn when the backend can, else `followup`).
 */
export class SessionLanes {
  readonly #lanes = new Map<string, Lane>();
  readonly #waitingForSlot: Array<() => void> = [];
  #running = 0;
  #disposed = false;
  readonly #options: Required<SessionLanesOptions>;

  constructor(
    private readonly runtime: AgentRuntime,
    options: SessionLanesOptions = {},
  ) {
    this.#options = {
      maxConcurrentRuns: options.maxConcurrentRuns ?? 4,
      defaultMode: options.defaultMode ?? "steer",
      collectDebounceMs: options.collectDebounceMs ?? 500,
      runTimeoutMs: options.runTimeoutMs ?? 600_000,
    };
  }

  /** Whether the session has a run in progress. */
  isBusy(sessionKey: string): boolean {
    return this.#lanes.get(sessionKey)?.active !== undefined;
  }

  /** Runs in flight across all sessions. */
  get running(): number {
    return this.#running;
  }

  /** Submit a message for a session. */
  submit(sessionKey: string, input: string, options: SubmitOptions = {}): Submission {
    if (this.#disposed) throw new Error("the agent lanes were disposed");
    let mode = options.mode ?? this.#options.defaultMode;
    if (mode === "steer" && !this.runtime.capabilities.steer) mode = "followup";
    const lane = this.#lane(sessionKey);
    let resolve!: (outcome: RunOutcome) => void;
    const done = new Promise<RunOutcome>((yes) => {
      resolve = yes;
    });
    const listener = options.onEvent ?? (() => {});
    const busy = lane.active !== undefined || lane.queue.length > 0;

    if (busy && mode === "collect") {
      const collecting = lane.queue.at(-1);
      if (collecting?.collecting !== undefined) {
        collecting.inputs.push(input);
        collecting.listeners.push(listener);
        collecting.resolvers.push(resolve);
        clearTimeout(collecting.collecting);
        collecting.collecting = this.#collectTimer(sessionKey, collecting);
        return { runId: collecting.runId, status: "queued", done };
      }
    }
    const job: Job = { runId: randomUUID(), inputs: [input], listeners: [listener], resolvers: [resolve] };
    if (busy && mode === "interrupt") {
      for (const dropped of lane.queue.splice(0)) {
        clearTimeout(dropped.collecting);
        this.#finish(dropped, {
          runId: dropped.runId,
          stopReason: "aborted",
          text: "",
          error: "replaced by a newer message",
        });
      }
      lane.active?.controller.abort(new Error("interrupted by a newer message"));
    }
    if (busy && mode === "collect") job.collecting = this.#collectTimer(sessionKey, job);
    lane.queue.push(job);
    if (busy) listener({ type: "queued", position: lane.queue.length });
    else void this.#pump(sessionKey);
    return { runId: job.runId, status: busy ? "queued" : "started", done };
  }

  /** Abort the session's current run (or only `runId`, when it is the current one). Returns the aborted run ids. */
  abort(sessionKey: string, runId?: string): string[] {
    const active = this.#lanes.get(sessionKey)?.active;
    if (!active || (runId !== undefined && active.job.runId !== runId)) return [];
    active.controller.abort(new Error("aborted"));
    return [active.job.runId];
  }

  /** Abort everything and refuse new submissions. */
  async dispose(): Promise<void> {
    this.#disposed = true;
    for (const [key, lane] of this.#lanes) {
      for (const job of lane.queue.splice(0)) {
        clearTimeout(job.collecting);
        this.#finish(job, { runId: job.runId, stopReason: "aborted", text: "", error: "the agent runtime stopped" });
      }
      this.abort(key);
    }
    await this.runtime.dispose();
  }

  #lane(sessionKey: string): Lane {
    let lane = this.#lanes.get(sessionKey);
    if (!lane) {
      lane = { active: undefined, queue: [] };
      this.#lanes.set(sessionKey, lane);
    }
    return lane;
  }

  #collectTimer(sessionKey: string, job: Job): ReturnType<typeof setTimeout> {
    return setTimeout(() => {
      job.collecting = undefined;
      void this.#pump(sessionKey);
    }, this.#options.collectDebounceMs);
  }

  async #pump(sessionKey: string): Promise<void> {
    const lane = this.#lane(sessionKey);
    if (lane.active) return;
    const job = lane.queue[0];
    if (!job || job.collecting !== undefined) return;
    lane.queue.shift();
    const controller = new AbortController();
    lane.active = { job, controller };
    await this.#acquireSlot();
    const timeout = setTimeout(() => controller.abort(new Error("run timed out")), this.#options.runTimeoutMs);
    let outcome: RunOutcome = {
      runId: job.runId,
      stopReason: "error",
      text: "",
      error: "the run ended without run_end",
    };
    try {
      const input = job.inputs.join("\n\n");
      for await (const event of this.runtime.run(sessionKey, input, { runId: job.runId, signal: controller.signal })) {
        for (const listener of job.listeners) listener(event);
        if (event.type === "run_end") {
          outcome = {
            runId: job.runId,
            stopReason: event.stopReason,
            text: event.text,
            ...(event.error !== undefined ? { error: event.error } : {}),
          };
        }
      }
    } catch (error) {
      // A backend must report errors as a run_end; one that throws still ends the run, as an error.
      outcome = { runId: job.runId, stopReason: "error", text: "", error: (error as Error).message };
      const end: AgentRunEvent = {
        type: "run_end",
        runId: job.runId,
        stopReason: "error",
        text: "",
        error: outcome.error!,
      };
      for (const listener of job.listeners) listener(end);
    } finally {
      clearTimeout(timeout);
      lane.active = undefined;
      this.#releaseSlot();
    }
    this.#finish(job, outcome);
    if (lane.queue.length === 0) this.#lanes.delete(sessionKey);
    else void this.#pump(sessionKey);
  }

  #finish(job: Job, outcome: RunOutcome): void {
    for (const resolve of job.resolvers) resolve(outcome);
  }

  #acquireSlot(): Promise<void> {
    if (this.#running < this.#options.maxConcurrentRuns) {
      this.#running++;
      return Promise.resolve();
    }
    return new Promise((resolve) =>
      this.#waitingForSlot.push(() => {
        this.#running++;
        resolve();
      }),
    );
  }

  #releaseSlot(): void {
    this.#running--;
    this.#waitingForSlot.shift()?.();
  }
}
