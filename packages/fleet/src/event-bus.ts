import { type Static, Type } from "@sinclair/typebox";
import { TypeCompiler } from "@sinclair/typebox/compiler";
import type { Redis } from "ioredis";

/** One event on the fleet's bus, as it was published. */
export const FleetEvent = Type.Object({
  /** The instance that produced it. */
  origin: Type.String({ minLength: 1, maxLength: 256 }),
  /** The event's name (`chat`, `agent`, …). */
  event: Type.String({ minLength: 1, maxLength: 128 }),
  /** The payload, serialised once by the producer (absent for an event without payload). */
  payloadJson: Type.Optional(Type.String()),
  /** Delivery options the producer gave beyond the event's defaults (`audience`, `dropIfSlow`), as JSON. */
  optionsJson: Type.Optional(Type.String({ maxLength: 256 })),
  /** When it was published (ms since the epoch, the producer's clock): for latency figures. */
  publishedAt: Type.Integer({ minimum: 0 }),
});
export type FleetEvent = Static<typeof FleetEvent>;

const fleetEventChecker = TypeCompiler.Compile(FleetEvent);
/** Events of one burst per stream entry at most (a reader's batch stays small). */
const MAX_EVENTS_PER_ENTRY = 64;

/** Options of the bus. */
export interface FleetEventBusOptions {
  /** This instance's id: its own events are not handed back to it. */
  self: string;
  /** Prefix of the fleet's keys; the stream is `<keyPrefix>events`. */
  keyPrefix: string;
  /** Entries the stream keeps (approximately, `MAXLEN ~`): what a reader that was away can still catch up. @default 10000 */
  maxLength?: number;
  /** Entries (bursts of events) kept while Redis is unreachable, published in order when it is back (the oldest dropped first). @default 1000 */
  backlog?: number;
  /** Entries taken per read. @default 512 */
  batch?: number;
  /** Where problems go (a malformed entry, Redis away). */
  log: { warn(message: string): void; debug?(message: string): void };
}

/** What the bus counts (for status and the bench). */
export interface FleetEventBusCounts {
  published: number;
  received: number;
  /** Entries that did not validate (skipped). */
  malformed: number;
  /** Events that could not be published (the backlog overflowed, or Redis refused them). */
  lost: number;
}

/**
 * The fleet's event bus: one Redis Stream that every instance appends to (`XADD … MAXLEN ~`) and reads with a
 * blocking `XREAD` from the last id it saw. A reader whose connection dropped resumes from that id, so it catches up
 * with what the others published meanwhile (within `maxLength`). An event published while Redis is unreachable waits
 * in a bounded backlog and goes out, in order, once Redis is back. Entries are validated before they are handed on.
 */
export class FleetEventBus {
  readonly counts: FleetEventBusCounts = { published: 0, received: 0, malformed: 0, lost: 0 };
  readonly #stream: string;
  readonly #maxLength: number;
  readonly #backlogLimit: number;
  readonly #batch: number;
  readonly #backlog: string[][] = [];
  #reader: Redis | undefined;
  /** The last entry seen; undefined until the reader first reached Redis. */
  #lastId: string | undefined;
  #closed = false;
  #flushing = false;
  #outage = false;
  /** Fields of the events published in this synchronous burst (one entry). */
  #batchFields: string[] = [];
  #batchSize = 0;

  constructor(
    private readonly redis: Redis,
    private readonly options: FleetEventBusOptions,
  ) {
    this.#stream = `${options.keyPrefix}events`;
    this.#maxLength = options.maxLength ?? 10_000;
    this.#backlogLimit = options.backlog ?? 1_000;
    this.#batch = options.batch ?? 512;
    redis.on("ready", this.#onReady);
  }

  /**
   * Start reading the events of the other instances; `onEvent` gets each one, validated, in stream order. Resolves
   * once the reader knows where the stream ends (events published after that reach `onEvent`), or after
   * `startTimeoutMs` while Redis is unreachable (reading starts when it is back).
   */
  async start(onEvent: (event: FleetEvent) => void, startTimeoutMs = 2_000): Promise<void> {
    const reader = this.redis.duplicate({ maxRetriesPerRequest: null, enableOfflineQueue: true });
    reader.on("error", (error) => this.options.log.debug?.(`fleet events: reader: ${error.message}`));
    this.#reader = reader;
    const found = this.#findEnd(reader);
    void found.then(() => this.#readLoop(reader, onEvent));
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([found, new Promise((resolve) => (timer = setTimeout(resolve, startTimeoutMs)))]);
    clearTimeout(timer);
  }

  /**
   * Publish an event to the other instances (in order; queued while Redis is away). What is published in one
   * synchronous burst (a streamed delta's `chat` and `agent` events) goes out as one stream entry: one command.
   */
  publish(event: string, payloadJson: string | undefined, optionsJson?: string): void {
    if (this.#closed) return;
    const batch = this.#batchFields;
    batch.push("event", event);
    if (payloadJson !== undefined) batch.push("payloadJson", payloadJson);
    if (optionsJson !== undefined) batch.push("optionsJson", optionsJson);
    this.counts.published++;
    if (++this.#batchSize === 1) queueMicrotask(this.#flushBatch);
    else if (this.#batchSize >= MAX_EVENTS_PER_ENTRY) this.#flushBatch();
  }

  readonly #flushBatch = (): void => {
    if (this.#batchSize === 0) return;
    const fields = ["origin", this.options.self, "publishedAt", String(Date.now()), ...this.#batchFields];
    this.#batchFields = [];
    this.#batchSize = 0;
    if (this.#closed) return;
    if (this.redis.status !== "ready" || this.#backlog.length > 0) this.#queue(fields);
    else this.#append(fields);
  };

  /** Stop reading and publishing. Idempotent. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.redis.off("ready", this.#onReady);
    this.#reader?.disconnect();
  }

  #append(fields: string[]): void {
    this.redis
      .xadd(this.#stream, "MAXLEN", "~", this.#maxLength, "*", ...fields)
      .catch((error: Error) => this.#lose(`an event could not be published (${error.message})`));
  }

  #queue(fields: string[]): void {
    if (!this.#outage) {
      this.#outage = true;
      this.options.log.warn(
        `fleet events: Redis is unreachable; events of this instance wait (up to ${this.#backlogLimit}) and go out to the other instances when it is back`,
      );
    }
    this.#backlog.push(fields);
    if (this.#backlog.length > this.#backlogLimit) {
      this.#backlog.shift();
      this.#lose("the backlog is full");
    }
  }

  #lose(reason: string): void {
    this.counts.lost++;
    if (this.counts.lost === 1 || this.counts.lost % 1000 === 0)
      this.options.log.warn(`fleet events: ${this.counts.lost} event(s) not shared with the fleet so far: ${reason}`);
  }

  readonly #onReady = (): void => {
    if (this.#closed || this.#flushing || this.#backlog.length === 0) return;
    this.#flushing = true;
    const pending = this.#backlog.splice(0);
    const pipeline = this.redis.pipeline();
    for (const fields of pending) pipeline.xadd(this.#stream, "MAXLEN", "~", this.#maxLength, "*", ...fields);
    pipeline
      .exec()
      .then((results) => {
        for (const [error] of results ?? [])
          if (error) this.#lose(`an event could not be published (${error.message})`);
      })
      .catch((error: Error) => this.#lose(`the backlog could not be published (${error.message})`))
      .finally(() => {
        this.#flushing = false;
        if (this.#backlog.length > 0 && this.redis.status === "ready") this.#onReady();
      });
    this.#outage = false;
    this.options.log.warn(`fleet events: Redis is back; what waited is published (stream entries: ${pending.length})`);
  };

  /** Start after what the stream holds now: history from before this instance started is not replayed. */
  async #findEnd(reader: Redis): Promise<void> {
    for (let attempt = 1; !this.#closed; attempt++) {
      try {
        const info = (await reader.xinfo("STREAM", this.#stream)) as unknown[];
        const index = info.indexOf("last-generated-id");
        this.#lastId = index >= 0 ? String(info[index + 1]) : "0-0";
        return;
      } catch (error) {
        // No stream yet: everything that will be appended is new.
        if (/no such key/i.test((error as Error).message)) {
          this.#lastId = "0-0";
          return;
        }
        if (this.#closed) return;
        this.options.log.warn(`fleet events: cannot look at ${this.#stream} (${(error as Error).message}); retrying`);
        await new Promise((resolve) => setTimeout(resolve, Math.min(5_000, 100 * attempt)));
      }
    }
  }

  async #readLoop(reader: Redis, onEvent: (event: FleetEvent) => void): Promise<void> {
    let failures = 0;
    while (!this.#closed) {
      let reply: [string, [string, string[]][]][] | null;
      try {
        reply = (await reader.xread("COUNT", this.#batch, "BLOCK", 0, "STREAMS", this.#stream, this.#lastId!)) as
          | [string, [string, string[]][]][]
          | null;
        failures = 0;
      } catch (error) {
        if (this.#closed) return;
        if (failures++ === 0) this.options.log.debug?.(`fleet events: read failed (${(error as Error).message})`);
        await new Promise((resolve) => setTimeout(resolve, Math.min(1_000, 50 * failures)));
        continue;
      }
      for (const [, entries] of reply ?? []) {
        for (const [id, fields] of entries) {
          this.#lastId = id;
          this.#receive(id, fields, onEvent);
        }
      }
    }
  }

  #receive(id: string, fields: string[], onEvent: (event: FleetEvent) => void): void {
    // The origin is the first field we write: our own entries are skipped before anything is parsed.
    if (fields[0] === "origin" && fields[1] === this.options.self) return;
    // One entry: its origin and time, then each event's name followed by its payload and options.
    let origin: string | undefined;
    let publishedAt: number | undefined;
    const events: Array<Record<string, unknown>> = [];
    for (let index = 0; index + 1 < fields.length; index += 2) {
      const name = fields[index]!;
      const value = fields[index + 1]!;
      if (name === "origin") origin = value;
      else if (name === "publishedAt") publishedAt = Number(value);
      else if (name === "event") events.push({ event: value });
      else if (events.length > 0) events[events.length - 1]![name] = value;
    }
    if (events.length === 0) events.push({});
    for (const candidate of events) {
      const entry = { ...candidate, origin, publishedAt };
      if (!fleetEventChecker.Check(entry)) {
        this.counts.malformed++;
        const issue = fleetEventChecker.Errors(entry).First();
        this.options.log.warn(
          `fleet events: skipped an event of entry ${id} of ${this.#stream} (${issue ? `${issue.path || "/"}: ${issue.message}` : "malformed"}); something other than a gateway writes to this stream`,
        );
        continue;
      }
      this.counts.received++;
      onEvent(entry);
    }
  }
}
