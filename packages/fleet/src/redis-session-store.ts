import { randomUUID } from "node:crypto";
import {
  type AppendListener,
  carriedOver,
  type NewTranscriptMessage,
  newSessionEntry,
  type SessionChanges,
  type SessionEntry,
  SessionEntrySchema,
  type SessionOrigin,
  type SessionStorage,
  type TranscriptMessage,
} from "@gateway/agent";
import { GatewayError, toChatMessage } from "@gateway/protocol";
import { Type } from "@sinclair/typebox";
import { TypeCompiler } from "@sinclair/typebox/compiler";
import type { Redis } from "ioredis";

// One script for every index edit: create the entry when missing (ARGV[2], unless empty), set fields (ARGV[3]),
// clear fields (ARGV[4]), add to counters (ARGV[5]); then tell every instance (PUBLISH the entry).
const EDIT = `
local current = redis.call('HGET', KEYS[1], ARGV[1])
local entry
if current then entry = cjson.decode(current)
elseif ARGV[2] ~= '' then entry = cjson.decode(ARGV[2])
else return false end
for field, value in pairs(cjson.decode(ARGV[3])) do entry[field] = value end
for _, field in ipairs(cjson.decode(ARGV[4])) do entry[field] = nil end
for field, value in pairs(cjson.decode(ARGV[5])) do entry[field] = (tonumber(entry[field]) or 0) + value end
local encoded = cjson.encode(entry)
if encoded ~= current then
  redis.call('HSET', KEYS[1], ARGV[1], encoded)
  redis.call('PUBLISH', KEYS[2], cjson.encode({key = ARGV[1], entry = entry}))
end
return encoded`;

// Append one line under the session's fencing token (ARGV[3], '' when the writer holds none): a token below the
// highest one the session has seen is a stale owner's late write, refused whole. Returns {count, entry} or an error
// code: -1 stale, -2 no such session, -3 the session was reset meanwhile (ARGV[6] is not its id any more).
const APPEND = `
local current = redis.call('HGET', KEYS[1], ARGV[1])
if not current then return {-2} end
local entry = cjson.decode(current)
if entry.sessionId ~= ARGV[6] then return {-3} end
if ARGV[3] ~= '' then
  local fence = tonumber(ARGV[3])
  local highest = tonumber(redis.call('HGET', KEYS[2], ARGV[1])) or 0
  if fence < highest then return {-1, highest} end
  if fence > highest then redis.call('HSET', KEYS[2], ARGV[1], fence) end
end
local count = redis.call('RPUSH', KEYS[4], ARGV[2])
redis.call('HINCRBY', KEYS[3], entry.sessionId, string.len(ARGV[2]) + 1)
entry.updatedAt = tonumber(ARGV[4])
local encoded = cjson.encode(entry)
redis.call('HSET', KEYS[1], ARGV[1], encoded)
redis.call('PUBLISH', ARGV[5], cjson.encode({key = ARGV[1], entry = entry}))
return {count, encoded}`;

// Replace an entry (a reset: ARGV[2]) or remove it (ARGV[2] empty), keeping the old transcript under ARGV[3]
// ('' drops it) for ARGV[4] seconds.
const REPLACE = `
local current = redis.call('HGET', KEYS[1], ARGV[1])
if ARGV[2] == '' then
  if not current then return false end
  redis.call('HDEL', KEYS[1], ARGV[1])
  redis.call('PUBLISH', KEYS[2], cjson.encode({key = ARGV[1], entry = false}))
  local old = cjson.decode(current).sessionId
  local transcript = ARGV[5] .. old
  if ARGV[3] ~= '' and redis.call('EXISTS', transcript) == 1 then
    redis.call('RENAME', transcript, ARGV[3])
    redis.call('EXPIRE', ARGV[3], ARGV[4])
    return ARGV[3]
  end
  redis.call('DEL', transcript)
  return ''
end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
redis.call('PUBLISH', KEYS[2], cjson.encode({key = ARGV[1], entry = cjson.decode(ARGV[2])}))
return ARGV[2]`;

// Keep the newest ARGV[1] lines; the whole transcript is copied to KEYS[2] first (kept ARGV[2] seconds).
const COMPACT = `
local count = redis.call('LLEN', KEYS[1])
local keep = tonumber(ARGV[1])
if count <= keep then return {count, 0} end
local lines = redis.call('LRANGE', KEYS[1], 0, -1)
for first = 1, #lines, 1000 do
  redis.call('RPUSH', KEYS[2], unpack(lines, first, math.min(first + 999, #lines)))
end
redis.call('EXPIRE', KEYS[2], ARGV[2])
redis.call('LTRIM', KEYS[1], -keep, -1)
local bytes = 0
for index = #lines - keep + 1, #lines do bytes = bytes + string.len(lines[index]) + 1 end
redis.call('HSET', KEYS[3], ARGV[3], bytes)
return {keep, count - keep}`;

/** How long transcripts set aside (reset, delete, compact) stay in Redis. */
const ARCHIVE_TTL_SECONDS = 30 * 24 * 60 * 60;

const Change = Type.Object({
  key: Type.String({ minLength: 1 }),
  entry: Type.Union([SessionEntrySchema, Type.Literal(false)]),
});
const checkEntry = TypeCompiler.Compile(SessionEntrySchema);
const checkChange = TypeCompiler.Compile(Change);

/** A write refused because another instance holds the session now (a newer fencing token wrote to it). */
export class StaleSessionWriteError extends Error {
  override readonly name = "StaleSessionWriteError";
  readonly code = "SESSION_MOVED";
}

/** Options of a RedisSessionStore. */
export interface RedisSessionStoreOptions {
  /** Keys live under `<keyPrefix>sessions:{<agentId>}:` (one hash slot per agent). */
  keyPrefix: string;
  agentId: string;
  /** The fencing token of the session's lease this instance holds (or last held); undefined: none. */
  fence(sessionKey: string): number | undefined;
  /** Told of what was dropped at the boundary (an entry or change that does not have the expected shape). */
  onProblem?(message: string): void;
}

/**
 * An agent's sessions in Redis, shared by every instance of a fleet: the index is a hash (one JSON entry per session
 * key), each transcript a list of JSON lines; every edit is one Lua script that also publishes the new entry, so each
 * instance keeps a copy of the index for its synchronous reads (reloaded whenever its subscription reconnects).
 * Appends carry the session's fencing token: a stale owner's late write is refused, never interleaved.
 */
export class RedisSessionStore implements SessionStorage {
  readonly indexPath: string;
  readonly ready: Promise<void>;
  readonly #index = new Map<string, SessionEntry>();
  readonly #listeners = new Set<AppendListener>();
  readonly #base: string;
  #subscriber: Redis | undefined;

  constructor(
    private readonly redis: Redis,
    readonly options: RedisSessionStoreOptions,
  ) {
    this.#base = `${options.keyPrefix}sessions:{${options.agentId}}:`;
    this.indexPath = `redis:${this.#key("index")}`;
    this.ready = this.#start();
  }

  #key(name: string): string {
    return this.#base + name;
  }
  #transcript(sessionId: string): string {
    return `${this.#base}transcript:${sessionId}`;
  }

  async #start(): Promise<void> {
    const subscriber = this.redis.duplicate();
    this.#subscriber = subscriber;
    subscriber.on("error", () => {}); // the command connection reports Redis trouble
    subscriber.on("message", (_channel: string, text: string) => this.#apply(text));
    // After a reconnect changes may have been missed: read the whole index again.
    subscriber.on("ready", () => void this.#load().catch(() => {}));
    // Redis away at start: the store is ready once it answers (everything waits for it meanwhile).
    for (;;) {
      try {
        await subscriber.subscribe(this.#key("changed"));
        await this.#load();
        return;
      } catch (error) {
        this.options.onProblem?.(`cannot load the sessions from Redis yet (${(error as Error).message}); retrying`);
        await new Promise((resolve) => setTimeout(resolve, 1_000));
      }
    }
  }

  /** A Redis call, failing as the user should hear it: the sessions are unreachable, try again later. */
  async #call<T>(work: Promise<T>): Promise<T> {
    try {
      return await work;
    } catch (error) {
      throw new GatewayError(
        "SESSIONS_UNAVAILABLE",
        `the sessions are kept in Redis, which does not answer (${(error as Error).message}); try again when it is back`,
        { cause: error },
      );
    }
  }

  async #load(): Promise<void> {
    const all = await this.redis.hgetall(this.#key("index"));
    this.#index.clear();
    for (const [key, text] of Object.entries(all)) {
      const entry = this.#parse(text);
      if (entry) this.#index.set(key, entry);
    }
  }

  #parse(text: string): SessionEntry | undefined {
    try {
      const value: unknown = JSON.parse(text);
      if (checkEntry.Check(value)) return value as SessionEntry;
    } catch {
      // reported below
    }
    this.options.onProblem?.(`a session entry in ${this.indexPath} is not usable; ignored`);
    return undefined;
  }

  #apply(text: string): void {
    let change: unknown;
    try {
      change = JSON.parse(text);
    } catch {
      change = undefined;
    }
    if (!checkChange.Check(change)) {
      this.options.onProblem?.(`a session change on ${this.#key("changed")} is not usable; ignored`);
      return;
    }
    if (change.entry === false) this.#index.delete(change.key);
    else this.#index.set(change.key, change.entry as SessionEntry);
  }

  #keep(text: string | null): SessionEntry | undefined {
    if (text === null) return undefined;
    const entry = this.#parse(text);
    if (entry) this.#index.set(entry.key, entry);
    return entry;
  }

  list(): SessionEntry[] {
    return [...this.#index.values()].sort((a, b) => b.updatedAt - a.updatedAt);
  }

  get(key: string): SessionEntry | undefined {
    return this.#index.get(key);
  }

  async #edit(
    key: string,
    edit: { create?: SessionEntry; set?: object; clear?: string[]; add?: Record<string, number> },
  ): Promise<SessionEntry | undefined> {
    await this.ready;
    const text = (await this.#call(
      this.redis.eval(
        EDIT,
        2,
        this.#key("index"),
        this.#key("changed"),
        key,
        edit.create ? JSON.stringify(edit.create) : "",
        JSON.stringify(edit.set ?? {}),
        // cjson reads [] as an empty object, which ipairs walks as well.
        JSON.stringify(edit.clear ?? []),
        JSON.stringify(edit.add ?? {}),
      ),
    )) as string | null;
    return this.#keep(text);
  }

  async ensure(key: string, origin?: SessionOrigin): Promise<SessionEntry> {
    await this.ready;
    const known = this.#index.get(key);
    if (known && (!origin || JSON.stringify(origin) === JSON.stringify(known.origin))) return known;
    return (await this.#edit(key, {
      create: newSessionEntry(key, origin ? { origin } : {}),
      ...(origin ? { set: { origin } } : {}),
    }))!;
  }

  onAppend(listener: AppendListener): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  async append(key: string, message: NewTranscriptMessage): Promise<TranscriptMessage> {
    const line = { id: randomUUID(), ...message, timestamp: message.timestamp ?? Date.now() } as TranscriptMessage;
    const text = JSON.stringify(line);
    const fence = this.options.fence(key);
    // A session created, reset or deleted by another instance meanwhile: look again (twice at most).
    for (let attempt = 0; attempt < 3; attempt++) {
      const entry = await this.ensure(key);
      const [count, encoded] = (await this.#call(
        this.redis.eval(
          APPEND,
          4,
          this.#key("index"),
          this.#key("fence"),
          this.#key("bytes"),
          this.#transcript(entry.sessionId),
          key,
          text,
          fence === undefined ? "" : String(fence),
          line.timestamp,
          this.#key("changed"),
          entry.sessionId,
        ),
      )) as [number, string | number | undefined];
      if (count === -1)
        throw new StaleSessionWriteError(
          `session ${key} is run by another instance now (fencing token ${encoded} > ${fence}); this message was not kept`,
        );
      if (count < 0) {
        await this.#refresh(key);
        continue;
      }
      this.#keep(encoded as string);
      const appended = { ...line, seq: count };
      for (const listener of this.#listeners) listener(key, appended);
      return appended;
    }
    throw new Error(`session ${key} kept changing while a message was appended; try again`);
  }

  async #refresh(key: string): Promise<void> {
    const text = await this.#call(this.redis.hget(this.#key("index"), key));
    if (text === null) this.#index.delete(key);
    else this.#keep(text);
  }

  async transcriptBytes(key: string): Promise<number> {
    await this.ready;
    const entry = this.#index.get(key);
    if (!entry) return 0;
    return Number((await this.#call(this.redis.hget(this.#key("bytes"), entry.sessionId))) ?? 0);
  }

  async addUsage(key: string, inputTokens: number, outputTokens: number): Promise<void> {
    await this.#edit(key, { create: newSessionEntry(key, {}), add: { inputTokens, outputTokens } });
  }

  async history(key: string, limit = 200): Promise<TranscriptMessage[]> {
    await this.ready;
    const entry = this.#index.get(key);
    if (!entry) return [];
    const transcript = this.#transcript(entry.sessionId);
    const replies = await this.#call(this.redis.multi().llen(transcript).lrange(transcript, -limit, -1).exec());
    const count = Number(replies?.[0]?.[1] ?? 0);
    const lines = (replies?.[1]?.[1] ?? []) as string[];
    const first = count - lines.length;
    const messages: TranscriptMessage[] = [];
    lines.forEach((text, index) => {
      try {
        const line = JSON.parse(text) as Record<string, unknown>;
        messages.push({ ...(toChatMessage(line) as TranscriptMessage), seq: first + index + 1 });
      } catch {
        this.options.onProblem?.(`a line of ${transcript} is not JSON; skipped`);
      }
    });
    return messages;
  }

  async messageCount(key: string): Promise<number> {
    await this.ready;
    const entry = this.#index.get(key);
    return entry ? this.#call(this.redis.llen(this.#transcript(entry.sessionId))) : 0;
  }

  async compact(key: string, maxLines: number): Promise<{ kept: number; removed: number; archived?: string }> {
    await this.ready;
    const entry = this.#index.get(key);
    if (!entry) return { kept: 0, removed: 0 };
    const archived = `${this.#transcript(entry.sessionId)}:compacted-${Date.now()}`;
    const [kept, removed] = (await this.#call(
      this.redis.eval(
        COMPACT,
        3,
        this.#transcript(entry.sessionId),
        archived,
        this.#key("bytes"),
        maxLines,
        ARCHIVE_TTL_SECONDS,
        entry.sessionId,
      ),
    )) as [number, number];
    return { kept, removed, ...(removed > 0 ? { archived } : {}) };
  }

  async patch(key: string, changes: SessionChanges): Promise<SessionEntry> {
    const set: Record<string, unknown> = { updatedAt: Date.now() };
    const clear: string[] = [];
    for (const [field, value] of Object.entries(changes)) {
      if (value === null) clear.push(field);
      else if (value !== undefined) set[field] = value;
    }
    return (await this.#edit(key, { create: newSessionEntry(key, {}), set, clear }))!;
  }

  async reset(key: string): Promise<SessionEntry> {
    await this.ready;
    const entry = newSessionEntry(key, carriedOver(this.#index.get(key)));
    const text = (await this.#call(
      this.redis.eval(REPLACE, 2, this.#key("index"), this.#key("changed"), key, JSON.stringify(entry), "", 0, ""),
    )) as string;
    return this.#keep(text)!;
  }

  async delete(
    key: string,
    options: { keepTranscript?: boolean } = {},
  ): Promise<{ deleted: boolean; archived: string[] }> {
    await this.ready;
    const entry = this.#index.get(key);
    const archive =
      options.keepTranscript === false || !entry ? "" : `${this.#transcript(entry.sessionId)}:deleted-${Date.now()}`;
    const result = (await this.#call(
      this.redis.eval(
        REPLACE,
        2,
        this.#key("index"),
        this.#key("changed"),
        key,
        "",
        archive,
        ARCHIVE_TTL_SECONDS,
        this.#transcript(""),
      ),
    )) as string | null;
    this.#index.delete(key);
    if (result === null) return { deleted: false, archived: [] };
    return { deleted: true, archived: result ? [result] : [] };
  }

  /** Every write is in Redis when it resolves: nothing to write. */
  async flush(): Promise<void> {}

  /** Stop following the index (the command connection is the caller's). */
  close(): void {
    this.#subscriber?.disconnect();
  }
}
