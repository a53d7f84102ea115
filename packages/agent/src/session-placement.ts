import type { QueueMode, RunOutcome } from "./session-lanes.js";
import type { SessionOrigin } from "./session-store.js";

/** A message for a session whose turns run on another instance. */
export interface ForwardedSend {
  sessionKey: string;
  message: string;
  mode?: QueueMode;
  origin?: SessionOrigin;
  idempotencyKey?: string;
}

/** A system event for a session whose turns run on another instance. */
export interface ForwardedEvent {
  sessionKey: string;
  text: string;
  wake?: "now" | "next-heartbeat";
  eventIds?: string[];
}

/** The owner's answer to a forwarded message: its ack at once, its outcome once the run ends. */
export interface ForwardedRun {
  runId: string;
  status: "started" | "queued";
  startedAt: number;
  /** Ends with an `error` outcome carrying `ownerLost` when the owner dies or stops answering first. */
  done: Promise<RunOutcome & { ownerLost?: boolean }>;
}

/**
 * Which instance runs a session's turns, when several gateway instances serve the same sessions (fleet mode): one at
 * a time per session (a lease with a fencing token), the others forward to it. Absent: every turn runs here.
 */
export interface SessionPlacement {
  /** Whether the session's turns run here now (taking the session when nobody has it), or which instance runs them. */
  claim(sessionKey: string): Promise<{ here: true } | { here: false; owner: string }>;
  /** Nothing runs or waits for the session here any more: it may be let go (after a while). */
  idle(sessionKey: string): void;
  /** Send a message to the owner of the session. */
  send(owner: string, request: ForwardedSend): Promise<ForwardedRun>;
  /** Abort the session's run on its owner; resolves with the aborted run ids. */
  abort(owner: string, sessionKey: string, runId?: string): Promise<string[]>;
  /** Give a system event to the owner of the session. */
  event(owner: string, request: ForwardedEvent): Promise<void>;
}

/** Thrown by `send` on the receiving side when the session moved on (the caller claims again). */
export const SESSION_MOVED = "SESSION_MOVED";
