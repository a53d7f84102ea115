import { randomUUID } from "node:crypto";
import { mkdirSync } from "node:fs";
import { copyFile, readFile, rename, rm, stat } from "node:fs/promises";
import { join } from "node:path";
import { type ChatMessage, toChatMessage } from "@gateway/protocol";
import {
  JsonLinesAppender,
  JsonStateFile,
  parseJsonLines,
  type StateFileProblem,
  writeFileAtomic,
} from "@gateway/state";
import { Type } from "@sinclair/typebox";
import type { SessionChanges, SessionStorage } from "./session-storage.js";

/** Where a session's messages came from, so replies go back there. */
export interface SessionOrigin {
  channel: string;
  accountId?: string;
  peer?: string;
  threadId?: string;
}

/** One session in the index. */
export interface SessionEntry {
  key: string;
  sessionId: string;
  createdAt: number;
  updatedAt: number;
  origin?: SessionOrigin;
  label?: string;
  thinkingLevel?: string;
  model?: string;
  sendPolicy?: "allow" | "deny";
  inputTokens: number;
  outputTokens: number;
}

/**
 * One line of a transcript: a message in the reference's content-block shape (`role`, `content[]`, `timestamp`).
 * Lines written before that shape (`{role, text, ts}`) are read as it (see `toChatMessage`); they are never rewritten.
 */
export type TranscriptMessage = ChatMessage & {
  id: string;
  /** Where it is in the transcript, 1-based (set when read back; not stored). */
  seq?: number;
  /** Background events this message carries (system messages from the Redis bridge), for exactly-once recovery. */
  eventIds?: string[];
};

/** What `append` takes: a message without the id and (optionally) the time, which the store fills in. */
export type NewTranscriptMessage = Omit<TranscriptMessage, "id" | "timestamp"> & { timestamp?: number };

/** Told after each message is appended to a session's transcript. */
export type AppendListener = (sessionKey: string, message: TranscriptMessage) => void;

const INDEX_SAVE_DELAY_MS = 200;

/**
 * What an index entry must hold to be used (in the index file, or a shared store): every entry with its key, a session id that is a plain file name (it names
 * the transcript), its times and token counts. Fields a later version adds are kept.
 */
export const SessionEntrySchema = Type.Object({
  key: Type.String({ minLength: 1 }),
  sessionId: Type.String({ pattern: "^[A-Za-z0-9_-]+$" }),
  createdAt: Type.Number(),
  updatedAt: Type.Number(),
  origin: Type.Optional(Type.Object({ channel: Type.String() })),
  inputTokens: Type.Number(),
  outputTokens: Type.Number(),
});
const IndexFileSchema = Type.Object({
  version: Type.Literal(1),
  sessions: Type.Record(Type.String(), SessionEntrySchema),
});

interface IndexFile {
  version: 1;
  sessions: Record<string, SessionEntry>;
}

/**
 * The sessions of one agent: `agents/<agentId>/sessions/sessions.json` (written atomically) and one JSONL transcript
 * per session id. Each message is one append of one line, so a crash mid-append can only leave a torn last line,
 * which reading skips; earlier lines are never touched. A reset starts a new session id and keeps the old transcript.
 */
export class SessionStore implements SessionStorage {
  readonly directory: string;
  readonly #file: JsonStateFile<typeof IndexFileSchema>;
  readonly #transcripts = new JsonLinesAppender();
  /** Known transcript sizes in bytes, by session id (read once from disk, then counted as lines are appended). */
  readonly #transcriptBytes = new Map<string, number>();
  #index: IndexFile;
  #saveTimer: NodeJS.Timeout | undefined;
  readonly #appendListeners = new Set<AppendListener>();
  /** Messages in each session's current transcript, by session id (counted once from disk, then as appended). */
  readonly #messageCounts = new Map<string, number>();
  /** The last pending append of each session, so the next one waits for it. */
  readonly #appending = new Map<string, Promise<unknown>>();

  constructor(
    stateDir: string,
    readonly agentId: string,
    options: { onProblem?: (problem: StateFileProblem) => void } = {},
  ) {
    this.directory = join(stateDir, "agents", agentId, "sessions");
    mkdirSync(this.directory, { recursive: true, mode: 0o700 });
    // Never overwritten when unreadable (a hand edit gone wrong): kept aside, reported, and a fresh index starts.
    this.#file = new JsonStateFile(join(this.directory, "sessions.json"), {
      schema: IndexFileSchema,
      empty: () => ({ version: 1, sessions: {} }),
      ...(options.onProblem ? { onProblem: options.onProblem } : {}),
    });
    this.#index = this.#file.read() as IndexFile;
  }

  /** The session index file. */
  get indexPath(): string {
    return join(this.directory, "sessions.json");
  }

  /** Set when the index could not be used at start: where it was moved, and why. */
  get problem(): StateFileProblem | undefined {
    return this.#file.problem;
  }

  /** Every session, newest first. */
  list(): SessionEntry[] {
    return Object.values(this.#index.sessions).sort((a, b) => b.updatedAt - a.updatedAt);
  }

  get(key: string): SessionEntry | undefined {
    return this.#index.sessions[key];
  }

  /** The session for `key`, created when missing. */
  async ensure(key: string, origin?: SessionOrigin): Promise<SessionEntry> {
    const existing = this.#index.sessions[key];
    if (existing) {
      if (origin && JSON.stringify(origin) !== JSON.stringify(existing.origin)) {
        existing.origin = origin;
        await this.#saveIndex();
      }
      return existing;
    }
    const entry = newSessionEntry(key, origin ? { origin } : {});
    this.#index.sessions[key] = entry;
    await this.#saveIndex();
    return entry;
  }

  /** Be told of every message appended from now on (live transcript subscribers); returns the unsubscribe. */
  onAppend(listener: AppendListener): () => void {
    this.#appendListeners.add(listener);
    return () => this.#appendListeners.delete(listener);
  }

  /** Append a message to the session's transcript (creating the session); appends to one session keep their order. */
  append(key: string, message: NewTranscriptMessage): Promise<TranscriptMessage> {
    return this.#serial(key, () => this.#append(key, message));
  }

  /** Run `work` after every earlier write of the session's transcript has finished (and before any later one). */
  #serial<T>(key: string, work: () => Promise<T>): Promise<T> {
    const previous = this.#appending.get(key) ?? Promise.resolve();
    const next = previous.then(work);
    const tail = next.catch(() => undefined);
    this.#appending.set(key, tail);
    tail.then(() => {
      if (this.#appending.get(key) === tail) this.#appending.delete(key);
    });
    return next;
  }

  async #append(key: string, message: NewTranscriptMessage): Promise<TranscriptMessage> {
    const entry = await this.ensure(key);
    const line = { id: randomUUID(), ...message, timestamp: message.timestamp ?? Date.now() } as TranscriptMessage;
    const before = await this.messageCount(key);
    const bytes = await this.transcriptBytes(key);
    try {
      await this.#transcripts.append(this.#transcriptPath(entry.sessionId), line);
    } finally {
      // After a failure part of the line may be on disk: measure and count again next time.
      this.#transcriptBytes.delete(entry.sessionId);
      this.#messageCounts.delete(entry.sessionId);
    }
    this.#transcriptBytes.set(entry.sessionId, bytes + Buffer.byteLength(JSON.stringify(line)) + 1);
    const seq = before + 1;
    this.#messageCounts.set(entry.sessionId, seq);
    entry.updatedAt = line.timestamp;
    this.#saveIndexSoon();
    const appended = { ...line, seq };
    for (const listener of this.#appendListeners) listener(key, appended);
    return appended;
  }

  /** The size of the session's current transcript in bytes (0 before its first message). */
  async transcriptBytes(key: string): Promise<number> {
    const entry = this.#index.sessions[key];
    if (!entry) return 0;
    const known = this.#transcriptBytes.get(entry.sessionId);
    if (known !== undefined) return known;
    const size = await stat(this.#transcriptPath(entry.sessionId)).then(
      (info) => info.size,
      () => 0,
    );
    this.#transcriptBytes.set(entry.sessionId, size);
    return size;
  }

  /** Add token counts of a finished run. */
  async addUsage(key: string, inputTokens: number, outputTokens: number): Promise<void> {
    const entry = await this.ensure(key);
    entry.inputTokens += inputTokens;
    entry.outputTokens += outputTokens;
    this.#saveIndexSoon();
  }

  /**
   * The newest `limit` messages, oldest first, in the current message shape (older lines are read as it). A torn
   * last line (a crash mid-append) is skipped.
   */
  async history(key: string, limit = 200): Promise<TranscriptMessage[]> {
    const entry = this.#index.sessions[key];
    if (!entry) return [];
    let text: string;
    try {
      text = await readFile(this.#transcriptPath(entry.sessionId), "utf8");
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === "ENOENT") return [];
      throw error;
    }
    const lines = parseJsonLines<Record<string, unknown>>(text);
    this.#messageCounts.set(entry.sessionId, lines.length);
    const first = Math.max(0, lines.length - limit);
    return lines.slice(first).map((line, index) => ({
      ...(toChatMessage(line) as TranscriptMessage),
      seq: first + index + 1,
    }));
  }

  /** How many messages the session's current transcript holds. */
  async messageCount(key: string): Promise<number> {
    const entry = this.#index.sessions[key];
    if (!entry) return 0;
    const known = this.#messageCounts.get(entry.sessionId);
    if (known !== undefined) return known;
    await this.history(key, 1);
    // No transcript yet: none.
    if (!this.#messageCounts.has(entry.sessionId)) this.#messageCounts.set(entry.sessionId, 0);
    return this.#messageCounts.get(entry.sessionId)!;
  }

  /**
   * Keep only the newest `maxLines` messages of a session's transcript. The full transcript is kept aside as
   * `<id>.compacted-<ts>.jsonl`; the kept lines are written to a new file that replaces the old one atomically.
   */
  compact(key: string, maxLines: number): Promise<{ kept: number; removed: number; archived?: string }> {
    return this.#serial(key, () => this.#compact(key, maxLines));
  }

  async #compact(key: string, maxLines: number): Promise<{ kept: number; removed: number; archived?: string }> {
    const entry = this.#index.sessions[key];
    if (!entry) return { kept: 0, removed: 0 };
    const path = this.#transcriptPath(entry.sessionId);
    let text: string;
    try {
      text = await readFile(path, "utf8");
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === "ENOENT") return { kept: 0, removed: 0 };
      throw error;
    }
    const lines = text.split("\n").filter((line) => line.trim() !== "");
    if (lines.length <= maxLines) return { kept: lines.length, removed: 0 };
    const archived = join(this.directory, `${entry.sessionId}.compacted-${Date.now()}.jsonl`);
    const kept = lines.slice(-maxLines);
    await copyFile(path, archived);
    await writeFileAtomic(path, `${kept.join("\n")}\n`);
    this.#transcriptBytes.delete(entry.sessionId);
    this.#messageCounts.delete(entry.sessionId);
    return { kept: kept.length, removed: lines.length - kept.length, archived };
  }

  /** Change a session's settings; `null` clears one. Creates the session when missing. */
  async patch(key: string, changes: SessionChanges): Promise<SessionEntry> {
    const entry = await this.ensure(key);
    for (const [field, value] of Object.entries(changes) as Array<[keyof typeof changes, string | null | undefined]>) {
      if (value === undefined) continue;
      if (value === null) delete entry[field];
      else (entry as unknown as Record<string, string>)[field] = value;
    }
    entry.updatedAt = Date.now();
    await this.#saveIndex();
    return entry;
  }

  /** Start a new session id under the same key; the old transcript stays on disk. */
  async reset(key: string): Promise<SessionEntry> {
    const previous = this.#index.sessions[key];
    const entry = newSessionEntry(key, carriedOver(previous));
    this.#index.sessions[key] = entry;
    await this.#saveIndex();
    return entry;
  }

  /** Remove a session from the index; its transcript is kept as `<id>.deleted-<ts>.jsonl` (or removed). */
  async delete(
    key: string,
    options: { keepTranscript?: boolean } = {},
  ): Promise<{ deleted: boolean; archived: string[] }> {
    const entry = this.#index.sessions[key];
    if (!entry) return { deleted: false, archived: [] };
    delete this.#index.sessions[key];
    await this.#saveIndex();
    if (options.keepTranscript === false) {
      await rm(this.#transcriptPath(entry.sessionId), { force: true });
      return { deleted: true, archived: [] };
    }
    const archived = join(this.directory, `${entry.sessionId}.deleted-${Date.now()}.jsonl`);
    try {
      await rename(this.#transcriptPath(entry.sessionId), archived);
      return { deleted: true, archived: [archived] };
    } catch {
      return { deleted: true, archived: [] };
    }
  }

  #transcriptPath(sessionId: string): string {
    return join(this.directory, `${sessionId}.jsonl`);
  }

  /** Write what is pending now (on shutdown). */
  async flush(): Promise<void> {
    if (this.#saveTimer === undefined) return this.#file.flush();
    clearTimeout(this.#saveTimer);
    this.#saveTimer = undefined;
    await this.#saveIndex();
  }

  /**
   * Activity times and token counts change with every message: they are written together within a moment instead
   * of once per message (a crash loses at most that moment of them; the messages are in the transcript already).
   */
  #saveIndexSoon(): void {
    if (this.#saveTimer !== undefined) return;
    this.#saveTimer = setTimeout(() => {
      this.#saveTimer = undefined;
      this.#saveIndex().catch(() => undefined);
    }, INDEX_SAVE_DELAY_MS);
    this.#saveTimer.unref();
  }

  /** One write at a time; the index is serialised when its write starts, so a queued write carries every change. */
  #saveIndex(): Promise<void> {
    if (this.#saveTimer !== undefined) {
      clearTimeout(this.#saveTimer);
      this.#saveTimer = undefined;
    }
    return this.#file.write(this.#index);
  }
}

/** What a reset session keeps of the one before: where it talks, its label. */
export function carriedOver(previous: SessionEntry | undefined): Pick<SessionEntry, "origin" | "label"> {
  return {
    ...(previous?.origin ? { origin: previous.origin } : {}),
    ...(previous?.label ? { label: previous.label } : {}),
  };
}

/** A fresh session (new id, zero tokens) for `key`, carrying over what `carry` gives. */
export function newSessionEntry(key: string, carry: Pick<SessionEntry, "origin" | "label">): SessionEntry {
  const now = Date.now();
  return { key, sessionId: randomUUID(), createdAt: now, updatedAt: now, ...carry, inputTokens: 0, outputTokens: 0 };
}
