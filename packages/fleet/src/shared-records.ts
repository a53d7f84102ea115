import { type Static, type TSchema, Type } from "@sinclair/typebox";
import { TypeCompiler } from "@sinclair/typebox/compiler";
import type { Redis } from "ioredis";

// Change one field only if it still holds what the writer read (compare-and-set), stamp it with a revision from a
// counter that only grows, and tell the other instances in the same step: messages go out in the order of the writes.
const UPDATE = `
local current = redis.call('HGET', KEYS[1], ARGV[1])
if ARGV[2] == '0' then
  if current then return 0 end
elseif current ~= ARGV[3] then return 0 end
local revision = redis.call('HINCRBY', KEYS[1], ':revision', 1)
if ARGV[4] == '' then redis.call('HDEL', KEYS[1], ARGV[1])
else redis.call('HSET', KEYS[1], ARGV[1], revision .. '|' .. ARGV[4]) end
redis.call('PUBLISH', ARGV[5], revision .. '|' .. ARGV[6])
return revision`;

// The first instance of a fleet brings its records (from its state file) along; once the fleet has had records, a
// joining instance's own are never written over them (a device removed in the fleet must not come back).
const SEED = `
if redis.call('HEXISTS', KEYS[1], ':revision') == 1 then return -1 end
local revision = redis.call('HINCRBY', KEYS[1], ':revision', 1)
for i = 1, #ARGV, 2 do redis.call('HSET', KEYS[1], ARGV[i], revision .. '|' .. ARGV[i + 1]) end
return (#ARGV) / 2`;

/** The hash field that holds the revision counter (never a record id: ids do not start with ':'). */
const REVISION_FIELD = ":revision";

/** How often a change is retried when other writers keep changing the same record. */
const MAX_ATTEMPTS = 32;

/** Options of shared records. */
export interface SharedRecordsOptions<S extends TSchema> {
  /** The records live in the hash `<keyPrefix><name>`; changes are published on `<keyPrefix><name>:changes`. */
  keyPrefix: string;
  name: string;
  /** What one record must be; everything read from Redis is checked against it. */
  schema: S;
  /** This instance's id (its own messages are recognised). */
  self: string;
  /** Told about what is wrong with data in Redis or the connection (logs). */
  onProblem?: (message: string) => void;
}

/** Told when a record changed on another instance (`note` is what the writer attached; "resync" after an outage). */
export type SharedRecordListener<T> = (id: string, record: T | undefined, note: string | undefined) => void;

/** Thrown when a record in Redis is not what it should be (it is left untouched). */
export class SharedRecordError extends Error {
  readonly code = "SHARED_RECORD_INVALID";
  constructor(message: string) {
    super(message);
    this.name = "SharedRecordError";
  }
}

/**
 * Records shared by every instance of a fleet, one hash field per id: each change is a compare-and-set of one field
 * (two instances changing the same record at once both land, the second on top of the first; records of other ids are
 * never touched), and is published with a growing revision so that each instance keeps a copy in memory that follows
 * within milliseconds — reads never go to Redis. While the subscription is down the copy may be stale
 * (`staleness()`), and on reconnect everything is read again and the differences are reported.
 */
export class SharedRecords<S extends TSchema> {
  readonly #options: SharedRecordsOptions<S>;
  readonly #check: ReturnType<typeof TypeCompiler.Compile<S>>;
  readonly #checkMessage: ReturnType<typeof TypeCompiler.Compile>;
  readonly #records = new Map<string, Static<S>>();
  /** The revision of what is held per id (also of deletions), so an older message never overwrites a newer copy. */
  readonly #revisions = new Map<string, number>();
  readonly #listeners: Array<SharedRecordListener<Static<S>>> = [];
  readonly #pending = new Map<string, Promise<unknown>>();
  #subscriber: Redis | undefined;
  #queue: string[] | undefined;
  #lostAt: number | undefined = Date.now();
  #closed = false;

  constructor(
    private readonly redis: Redis,
    options: SharedRecordsOptions<S>,
  ) {
    this.#options = options;
    this.#check = TypeCompiler.Compile(options.schema);
    this.#checkMessage = TypeCompiler.Compile(
      Type.Object({
        from: Type.String(),
        id: Type.String(),
        record: Type.Optional(Type.Unknown()),
        note: Type.Optional(Type.String()),
      }),
    );
  }

  get #key(): string {
    return `${this.#options.keyPrefix}${this.#options.name}`;
  }
  get #channel(): string {
    return `${this.#key}:changes`;
  }

  /** Subscribe to changes and read every record (call once; resolves with a copy of them). */
  async load(): Promise<Map<string, Static<S>>> {
    const subscriber = this.redis.duplicate();
    this.#subscriber = subscriber;
    subscriber.on("error", () => {});
    subscriber.on("close", () => {
      if (this.#lostAt === undefined) this.#lostAt = Date.now();
    });
    subscriber.on("ready", () => {
      // Messages missed while the connection was down: read everything again.
      if (this.#lostAt !== undefined && this.#queue === undefined) void this.#resync();
    });
    subscriber.on("message", (_channel: string, message: string) => {
      if (this.#queue) this.#queue.push(message);
      else this.#receive(message);
    });
    this.#queue = [];
    if (subscriber.status !== "ready") await subscriber.connect().catch(() => {});
    await subscriber.subscribe(this.#channel);
    const all = await this.#readAll();
    for (const [id, { revision, record }] of all) {
      this.#records.set(id, record);
      this.#revisions.set(id, revision);
    }
    this.#drain();
    this.#lostAt = undefined;
    return new Map(this.#records);
  }

  #drain(): void {
    const queued = this.#queue ?? [];
    this.#queue = undefined;
    for (const message of queued) this.#receive(message);
  }

  /**
   * Bring `records` into a fleet that never had any (the first instance's state file); resolves with how many were
   * written (0 when the fleet already had records: they stay as they are).
   */
  async seed(records: ReadonlyMap<string, Static<S>>): Promise<number> {
    const fields = [...records].flatMap(([id, record]) => [id, JSON.stringify(record)]);
    return Math.max(0, Number(await this.redis.eval(SEED, 1, this.#key, ...fields)));
  }

  /** Follow changes made by other instances. */
  watch(listener: SharedRecordListener<Static<S>>): void {
    this.#listeners.push(listener);
  }

  /** Why the records held may be out of date now (the subscription is down), if so. */
  staleness(): string | undefined {
    if (this.#lostAt === undefined) return undefined;
    return `lost the fleet's Redis ${Math.round((Date.now() - this.#lostAt) / 1000)} s ago; its changes cannot be followed`;
  }

  /** The record held for an id (no round trip). */
  get(id: string): Static<S> | undefined {
    return this.#records.get(id);
  }

  /**
   * Change one record: `change` gets it as stored now and returns the new one (undefined deletes it) or a symbol to
   * leave it; it runs again when another instance changed the record in between.
   */
  update(
    id: string,
    change: (current: Static<S> | undefined) => Static<S> | undefined | symbol,
    note?: string,
  ): Promise<{ changed: boolean; record: Static<S> | undefined }> {
    // Changes of one record from this instance go one after the other: only other instances can come in between.
    const previous = this.#pending.get(id) ?? Promise.resolve();
    const next = previous.then(
      () => this.#update(id, change, note),
      () => this.#update(id, change, note),
    );
    this.#pending.set(id, next);
    const forget = () => {
      if (this.#pending.get(id) === next) this.#pending.delete(id);
    };
    next.then(forget, forget);
    return next;
  }

  async #update(
    id: string,
    change: (current: Static<S> | undefined) => Static<S> | undefined | symbol,
    note: string | undefined,
  ): Promise<{ changed: boolean; record: Static<S> | undefined }> {
    for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
      if (attempt > 0) await new Promise((resolve) => setTimeout(resolve, Math.random() * 2 * attempt));
      const stored = await this.redis.hget(this.#key, id);
      const parsed = stored === null ? undefined : this.#parse(id, stored);
      const current = parsed?.record;
      const next = change(current === undefined ? undefined : structuredClone(current));
      if (typeof next === "symbol") {
        if (parsed) this.#hold(id, parsed.record, parsed.revision);
        return { changed: false, record: this.#records.get(id) };
      }
      const json = next === undefined ? "" : JSON.stringify(next);
      const message = JSON.stringify({
        from: this.#options.self,
        id,
        ...(next === undefined ? {} : { record: next }),
        ...(note ? { note } : {}),
      });
      const revision = Number(
        await this.redis.eval(
          UPDATE,
          1,
          this.#key,
          id,
          stored === null ? "0" : "1",
          stored ?? "",
          json,
          this.#channel,
          message,
        ),
      );
      if (revision > 0) {
        // A newer change may have been received already (replies and messages come on different connections):
        // what is held is the newest of the two.
        this.#hold(id, next, revision);
        return { changed: true, record: this.#records.get(id) };
      }
    }
    throw new Error(
      `${this.#key} ${id}: ${MAX_ATTEMPTS} writers in a row changed it first; the change was not made (retry)`,
    );
  }

  /** Stop following changes. Idempotent. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#subscriber?.disconnect();
  }

  #hold(id: string, record: Static<S> | undefined, revision: number): boolean {
    if ((this.#revisions.get(id) ?? 0) >= revision) return false;
    this.#revisions.set(id, revision);
    if (record === undefined) this.#records.delete(id);
    else this.#records.set(id, record);
    return true;
  }

  #receive(raw: string): void {
    const bar = raw.indexOf("|");
    const revision = Number(raw.slice(0, bar));
    let message: unknown;
    try {
      message = JSON.parse(raw.slice(bar + 1));
    } catch {
      message = undefined;
    }
    if (!Number.isSafeInteger(revision) || !this.#checkMessage.Check(message)) {
      this.#options.onProblem?.(`${this.#channel}: ignored a message that is not a change of this fleet`);
      return;
    }
    const { from, id, record, note } = message as { from: string; id: string; record?: unknown; note?: string };
    if (record !== undefined && !this.#check.Check(record)) {
      this.#options.onProblem?.(`${this.#channel}: ignored a change of ${id} that is not a valid record`);
      return;
    }
    const held = this.#hold(id, record as Static<S> | undefined, revision);
    if (held && from !== this.#options.self)
      for (const listener of this.#listeners) listener(id, record as never, note);
  }

  async #readAll(): Promise<Map<string, { revision: number; record: Static<S> }>> {
    const all = await this.redis.hgetall(this.#key);
    const records = new Map<string, { revision: number; record: Static<S> }>();
    for (const [id, stored] of Object.entries(all)) {
      if (id === REVISION_FIELD) continue;
      try {
        records.set(id, this.#parse(id, stored));
      } catch (error) {
        this.#options.onProblem?.((error as Error).message);
      }
    }
    return records;
  }

  #parse(id: string, stored: string): { revision: number; record: Static<S> } {
    const bar = stored.indexOf("|");
    let record: unknown;
    try {
      record = JSON.parse(stored.slice(bar + 1));
    } catch {
      record = undefined;
    }
    const revision = Number(stored.slice(0, bar));
    if (bar < 0 || !Number.isSafeInteger(revision) || !this.#check.Check(record)) {
      throw new SharedRecordError(
        `${this.#key} field ${id} is not a valid record (left as it is; fix or delete it with redis-cli HDEL)`,
      );
    }
    return { revision, record: record as Static<S> };
  }

  /** After an outage: read everything, report what changed meanwhile, then count as fresh again. */
  async #resync(): Promise<void> {
    this.#queue = [];
    try {
      const all = await this.#readAll();
      const changed: Array<[string, Static<S> | undefined]> = [];
      for (const [id, { revision, record }] of all) {
        if (this.#hold(id, record, revision)) changed.push([id, record]);
      }
      for (const id of [...this.#records.keys()]) {
        if (all.has(id)) continue;
        this.#records.delete(id);
        changed.push([id, undefined]);
      }
      this.#drain();
      this.#lostAt = undefined;
      for (const [id, record] of changed) for (const listener of this.#listeners) listener(id, record, "resync");
    } catch (error) {
      this.#drain();
      this.#options.onProblem?.(
        `${this.#key}: could not read the records again (${(error as Error).message}); retrying in 1 s`,
      );
      if (!this.#closed) setTimeout(() => void this.#resync(), 1_000).unref();
    }
  }
}
