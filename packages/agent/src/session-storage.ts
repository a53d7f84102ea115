import type {
  AppendListener,
  NewTranscriptMessage,
  SessionEntry,
  SessionOrigin,
  TranscriptMessage,
} from "./session-store.js";

/** What `patch` changes in a session; `null` clears a setting. */
export interface SessionChanges {
  label?: string | null;
  thinkingLevel?: string | null;
  model?: string | null;
  sendPolicy?: "allow" | "deny" | null;
}

/**
 * Where an agent keeps its session index and transcripts: the state dir's files by default (`SessionStore`), a shared
 * store when several gateway instances serve the same sessions (fleet mode). Reads of the index are synchronous (an
 * implementation keeps the index at hand); everything else is asynchronous.
 */
export interface SessionStorage {
  /** Where the index is, as `sessions.list` reports it (a file path, or a Redis key). */
  readonly indexPath: string;
  /** Resolves once the index can be read (a shared store loads it first); absent: at once. */
  readonly ready?: Promise<void>;
  /** Every session, newest first. */
  list(): SessionEntry[];
  get(key: string): SessionEntry | undefined;
  /** The session for `key`, created when missing (its origin updated when given and different). */
  ensure(key: string, origin?: SessionOrigin): Promise<SessionEntry>;
  /** Be told of every message appended from now on; returns the unsubscribe. */
  onAppend(listener: AppendListener): () => void;
  /** Append a message to the session's transcript (creating the session); appends to one session keep their order. */
  append(key: string, message: NewTranscriptMessage): Promise<TranscriptMessage>;
  /** The size of the session's current transcript in bytes. */
  transcriptBytes(key: string): Promise<number>;
  /** Add token counts of a finished run. */
  addUsage(key: string, inputTokens: number, outputTokens: number): Promise<void>;
  /** The newest `limit` messages, oldest first, each with its place (`seq`). */
  history(key: string, limit?: number): Promise<TranscriptMessage[]>;
  /** How many messages the session's current transcript holds. */
  messageCount(key: string): Promise<number>;
  /** Keep only the newest `maxLines` messages; the full transcript is kept aside (`archived` says where). */
  compact(key: string, maxLines: number): Promise<{ kept: number; removed: number; archived?: string }>;
  patch(key: string, changes: SessionChanges): Promise<SessionEntry>;
  /** Start a new session id under the same key; the old transcript is kept. */
  reset(key: string): Promise<SessionEntry>;
  /** Remove a session; its transcript is kept aside unless `keepTranscript` is false. */
  delete(key: string, options?: { keepTranscript?: boolean }): Promise<{ deleted: boolean; archived: string[] }>;
  /** Write what is pending (on shutdown). */
  flush(): Promise<void>;
}
