import type { RunOutcome } from "./session-lanes.js";
import type { SessionOrigin } from "./session-store.js";

/** A run as the service remembers it: where it runs, when it started and ended, how it ended. */
export interface RunRecord {
  runId: string;
  sessionKey: string;
  origin?: SessionOrigin;
  startedAt: number;
  endedAt?: number;
  outcome?: RunOutcome;
  done: Promise<RunOutcome>;
}

/** A run just started, or queued behind the session's current run. */
export type StartedRun = RunRecord & { status: "started" | "queued" };

const RECENT_RUNS = 1000;

/** The recent runs by id (the last 1000): `agent.wait`, `sessions.abort` and `chat.send` retries look them up. */
export class RunRegistry {
  readonly #runs = new Map<string, RunRecord>();

  /** The run with this id, if it is among the recent ones. */
  get(runId: string): RunRecord | undefined {
    return this.#runs.get(runId);
  }

  /** Remember a run; the oldest is forgotten past the last 1000. */
  add(record: RunRecord): void {
    this.#runs.set(record.runId, record);
    if (this.#runs.size > RECENT_RUNS) this.#runs.delete(this.#runs.keys().next().value!);
  }
}
