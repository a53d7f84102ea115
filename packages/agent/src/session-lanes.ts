import { randomUUID } from "node:crypto";
import type { AgentRunEvent, AgentRuntime, AgentTool, ConversationMessage, StopReason, Usage } from "./runtime.js";

/** What happens to a message that arrives while its session is busy. */
export type QueueMode = "steer" | "followup" | "collect" | "interrupt";

/** How a submitted message ended. */
export interface RunOutcome {
  runId: string;
  stopReason: StopReason;
  text: string;
  error?: string;
  usage?: Usage;
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
  /** Tools offered to the model in every run. */
  tools?: readonly AgentTool[];
  /** The gateway's id of a session (changes on reset). */
  sessionId?: (sessionKey: string) => string | undefined;
  /** A session's earlier conversation, for backends that keep none across restarts. */
  history?: (sessionKey: string) => Promise<ConversationMessage[]>;
}

/** One message (or, in `collect`, several) and whoever waits for its answer. */
interface Part {
  runId: string;
  inputId: string;
  listeners: Array<(event: AgentRunEvent) => void>;
  resolvers: Array<(outcome: RunOutcome) => void>;
  /** The answer streamed so far to this part. */
  text: string;
}

interface Job {
  inputs: string[];
  /** The first part is the job's own input; later ones were steered into its run and answer in turn. */
  parts: Part[];
  collecting?: ReturnType<typeof setTimeout>;
}

interface Lane {
  active: { job: Job; controller: AbortController; delivered: Set<string>; runtime: AgentRuntime } | undefined;
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
  /** The text of steered messages until the model gets them (to run them after, if the run ends first). */
  readonly #steeredInputs = new Map<string, string>();
  #running = 0;
  #disposed = false;
  readonly #options: Required<SessionLanesOptions>;

  #runtime: AgentRuntime;
  /** Runs in flight per runtime, so a replaced runtime is disposed when its last run ends. */
  readonly #inFlight = new Map<AgentRuntime, number>();
  readonly #retired = new Set<AgentRuntime>();

  constructor(runtime: AgentRuntime, options: SessionLanesOptions = {}) {
    this.#runtime = runtime;
    this.#options = {
      maxConcurrentRuns: options.maxConcurrentRuns ?? 4,
      defaultMode: options.defaultMode ?? "steer",
      collectDebounceMs: options.collectDebounceMs ?? 500,
      runTimeoutMs: options.runTimeoutMs ?? 600_000,
      tools: options.tools ?? [],
      history: options.history ?? (async () => []),
      sessionId: options.sessionId ?? (() => undefined),
    };
  }

  /** The runtime new runs use. */
  get runtime(): AgentRuntime {
    return this.#runtime;
  }

  /** Use `next` for new runs (a config change); the old runtime finishes its runs, then is disposed. */
  async replaceRuntime(next: AgentRuntime): Promise<void> {
    const previous = this.#runtime;
    if (previous === next) return;
    this.#runtime = next;
    if ((this.#inFlight.get(previous) ?? 0) === 0) await previous.dispose();
    else this.#retired.add(previous);
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
    const runtime = this.#runtime;
    if (mode === "steer" && !(runtime.capabilities.steer && runtime.steer)) mode = "followup";
    const lane = this.#lane(sessionKey);
    let resolve!: (outcome: RunOutcome) => void;
    const done = new Promise<RunOutcome>((yes) => {
      resolve = yes;
    });
    const listener = options.onEvent ?? (() => {});
    const busy = lane.active !== undefined || lane.queue.length > 0;
    const part: Part = {
      runId: randomUUID(),
      inputId: randomUUID(),
      listeners: [listener],
      resolvers: [resolve],
      text: "",
    };

    if (busy && mode === "steer" && lane.active?.runtime === runtime && lane.queue.length === 0) {
      // Into the running turn: its answer is attributed to this part once the backend says the model got it.
      lane.active.job.parts.push(part);
      if (runtime.steer!(sessionKey, input, part.inputId)) {
        this.#steeredInputs.set(part.inputId, input);
        return { runId: part.runId, status: "started", done };
      }
      lane.active.job.parts.pop();
    }
    if (busy && mode === "collect") {
      const collecting = lane.queue.at(-1);
      if (collecting?.collecting !== undefined) {
        const head = collecting.parts[0]!;
        collecting.inputs.push(input);
        head.listeners.push(listener);
        head.resolvers.push(resolve);
        clearTimeout(collecting.collecting);
        collecting.collecting = this.#collectTimer(sessionKey, collecting);
        return { runId: head.runId, status: "queued", done };
      }
    }
    const job: Job = { inputs: [input], parts: [part] };
    if (busy && mode === "interrupt") {
      for (const dropped of lane.queue.splice(0)) {
        clearTimeout(dropped.collecting);
        this.#finishAll(dropped, "replaced by a newer message");
      }
      lane.active?.controller.abort(new Error("interrupted by a newer message"));
    }
    if (busy && mode === "collect") job.collecting = this.#collectTimer(sessionKey, job);
    lane.queue.push(job);
    if (busy) listener({ type: "queued", position: lane.queue.length });
    else void this.#pump(sessionKey);
    return { runId: part.runId, status: busy ? "queued" : "started", done };
  }

  /** Abort the session's current run (or only `runId`, when it is part of the current one). Returns the aborted run ids. */
  abort(sessionKey: string, runId?: string): string[] {
    const active = this.#lanes.get(sessionKey)?.active;
    if (!active) return [];
    const runIds = active.job.parts.map((part) => part.runId);
    if (runId !== undefined && !runIds.includes(runId)) return [];
    active.controller.abort(new Error("aborted"));
    return runIds;
  }

  /** Abort everything and refuse new submissions. */
  async dispose(): Promise<void> {
    this.#disposed = true;
    for (const [key, lane] of this.#lanes) {
      for (const job of lane.queue.splice(0)) {
        clearTimeout(job.collecting);
        this.#finishAll(job, "the agent runtime stopped");
      }
      this.abort(key);
    }
    await Promise.all([this.#runtime, ...this.#retired].map((runtime) => runtime.dispose()));
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
    const runtime = this.#runtime;
    const active = { job, controller, delivered: new Set<string>([job.parts[0]!.inputId]), runtime };
    lane.active = active;
    this.#inFlight.set(runtime, (this.#inFlight.get(runtime) ?? 0) + 1);
    await this.#acquireSlot();
    const timeout = setTimeout(() => controller.abort(new Error("run timed out")), this.#options.runTimeoutMs);
    const head = job.parts[0]!;
    let current = head;
    const emit = (part: Part, event: AgentRunEvent) => {
      for (const listener of part.listeners) listener(event);
    };
    let end: Extract<AgentRunEvent, { type: "run_end" }> | undefined;
    try {
      const input = job.inputs.join("\n\n");
      const sessionId = this.#options.sessionId(sessionKey);
      const events = runtime.run(sessionKey, input, {
        runId: head.runId,
        signal: controller.signal,
        ...(this.#options.tools.length > 0 ? { tools: this.#options.tools } : {}),
        history: () => this.#options.history(sessionKey),
        ...(sessionId ? { sessionId } : {}),
      });
      for await (const event of events) {
        if (event.type === "input_start") {
          const steered = job.parts.find((part) => part.inputId === event.inputId);
          if (steered && steered !== current) {
            active.delivered.add(steered.inputId);
            current = steered;
            emit(current, { type: "run_start", runId: current.runId });
          }
          continue;
        }
        if (event.type === "run_end") {
          end = event;
          break;
        }
        if (event.type === "text_delta") current.text += event.text;
        emit(current, event);
      }
    } catch (error) {
      // A backend must report errors as a run_end; one that throws still ends the run, as an error.
      end = { type: "run_end", runId: head.runId, stopReason: "error", text: "", error: (error as Error).message };
    } finally {
      clearTimeout(timeout);
      lane.active = undefined;
      this.#releaseSlot();
      const left = (this.#inFlight.get(runtime) ?? 1) - 1;
      this.#inFlight.set(runtime, left);
      if (left === 0 && this.#retired.delete(runtime)) {
        this.#inFlight.delete(runtime);
        void runtime.dispose();
      }
    }
    end ??= {
      type: "run_end",
      runId: head.runId,
      stopReason: "error",
      text: "",
      error: "the run ended without run_end",
    };
    for (const part of job.parts) {
      if (!active.delivered.has(part.inputId)) continue;
      // A backend that does not stream gives the whole answer at the end: it belongs to the part answering last.
      const text = part.text || (part === current ? end.text : "");
      const outcome: RunOutcome = {
        runId: part.runId,
        stopReason: part === current ? end.stopReason : "stop",
        text,
        ...(part === current && end.error !== undefined ? { error: end.error } : {}),
        ...(part === head && end.usage ? { usage: end.usage } : {}),
      };
      emit(part, {
        ...end,
        runId: part.runId,
        stopReason: outcome.stopReason,
        text,
        ...(outcome.error ? { error: outcome.error } : {}),
      });
      for (const resolve of part.resolvers) resolve(outcome);
    }
    // Steered messages the run ended before delivering run next, in order (unless the run was aborted).
    const undelivered = job.parts.filter((part) => !active.delivered.has(part.inputId));
    for (const part of undelivered.reverse()) {
      const input = this.#steeredInputs.get(part.inputId) ?? "";
      this.#steeredInputs.delete(part.inputId);
      if (end.stopReason === "aborted")
        this.#finishPart(part, "aborted", "the run was aborted before this message was read");
      else lane.queue.unshift({ inputs: [input], parts: [part] });
    }
    if (lane.queue.length === 0) this.#lanes.delete(sessionKey);
    else void this.#pump(sessionKey);
  }

  #finishPart(part: Part, stopReason: StopReason, error: string): void {
    const outcome: RunOutcome = { runId: part.runId, stopReason, text: "", error };
    for (const listener of part.listeners)
      listener({ type: "run_end", runId: part.runId, stopReason, text: "", error });
    for (const resolve of part.resolvers) resolve(outcome);
  }

  #finishAll(job: Job, error: string): void {
    for (const part of job.parts) this.#finishPart(part, "aborted", error);
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
