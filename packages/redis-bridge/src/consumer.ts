import { hostname } from "node:os";
import { Redis, type RedisOptions } from "ioredis";
import { type BridgeKeys, bridgeKeys } from "./keys.js";
import type { BridgeEvent } from "./push.js";

/** Options of a consumer. */
export interface EventConsumerOptions {
  /** `redis://127.0.0.1:6379/0` */
  url: string;
  /** The session lists this consumer drains (the gateway: `gateway` and its alias `main`). */
  sessions: readonly string[];
  /** Stable across restarts, so a restarted consumer finds its in-flight batch. @default `<hostname>` */
  consumerId?: string;
  /**
   * Put the events into the session (in order, oldest first). Resolve only when they are safely there: the batch is
   * acknowledged after. Throwing leaves them in flight; they are retried after `retryDelayMs`.
   */
  deliver(events: BridgeEvent[], sessionId: string): Promise<void>;
  /**
   * After a crash, the in-flight batch comes back: say which of its events the session already has (delivered just
   * before the crash, not yet acknowledged), so none is delivered twice.
   */
  isDelivered?(event: BridgeEvent, sessionId: string): boolean | Promise<boolean>;
  /** Add the sessions to the live set while running (satellites must; the central session always gets events). @default true */
  register?: boolean;
  /** A drain also runs this often, in case a doorbell was missed. @default 5000 */
  pollIntervalMs?: number;
  /** How long a delivered id is remembered for dedupe. @default 604800 (7 days) */
  dedupeTtlSeconds?: number;
  /** Events moved per round trip. @default 200 */
  batchSize?: number;
  /** @default 1000 */
  retryDelayMs?: number;
  /** Put every key under this prefix (producers must use the same). @default "" (the seed's `agent:*` layout) */
  keyPrefix?: string;
  /** Extra ioredis options (tests pass a short reconnect backoff). */
  redisOptions?: RedisOptions;
  onError?(error: Error): void;
}

/** What `status()` reports (the gateway shows it in `health`). */
export interface ConsumerStatus {
  state: "connecting" | "ready" | "reconnecting" | "closed";
  since: number;
  delivered: number;
  duplicates: number;
  dead: number;
  lastDeliveredAt?: number;
  lastError?: string;
}

// Moves up to ARGV[1] events from the producers' list to the consumer's in-flight list, oldest first, atomically.
const MOVE_BATCH = `
local moved = {}
for i = 1, tonumber(ARGV[1]) do
  local value = redis.call('RPOPLPUSH', KEYS[1], KEYS[2])
  if not value then break end
  moved[#moved + 1] = value
end
return moved`;

function parseEvent(raw: string): BridgeEvent | undefined {
  try {
    const value = JSON.parse(raw) as Partial<BridgeEvent>;
    if (typeof value !== "object" || value === null || typeof value.id !== "string" || !value.id) return undefined;
    if (typeof value.type !== "string" || !value.type) return undefined;
    return {
      id: value.id,
      type: value.type,
      source: typeof value.source === "string" ? value.source : "unknown",
      payload: typeof value.payload === "object" && value.payload !== null ? value.payload : {},
      ts: typeof value.ts === "number" ? value.ts : Date.now(),
    };
  } catch {
    return undefined;
  }
}

/**
 * Drains session lists without losing an event: a batch is moved atomically to this consumer's in-flight list,
 * delivered, marked seen (a TTL'd key per id) and only then removed; after a crash the in-flight batch is delivered
 * first (minus what the session already has). Redis outages: both connections reconnect with backoff, commands wait,
 * and a drain runs on every reconnection and on a timer, so delivery resumes by itself.
 */
export class EventConsumer {
  readonly #options: Required<
    Pick<EventConsumerOptions, "pollIntervalMs" | "dedupeTtlSeconds" | "batchSize" | "retryDelayMs" | "register">
  > &
    EventConsumerOptions;
  readonly #consumerId: string;
  readonly #keys: BridgeKeys;
  #cmd: Redis | undefined;
  #sub: Redis | undefined;
  #timer: NodeJS.Timeout | undefined;
  #draining: Promise<void> | undefined;
  #again = false;
  /** Sessions whose in-flight list this consumer emptied itself (no need to look at it again). */
  readonly #inFlightEmpty = new Set<string>();
  #closed = false;
  readonly #status: ConsumerStatus = { state: "connecting", since: Date.now(), delivered: 0, duplicates: 0, dead: 0 };

  constructor(options: EventConsumerOptions) {
    this.#options = {
      pollIntervalMs: 5_000,
      dedupeTtlSeconds: 7 * 86_400,
      batchSize: 200,
      retryDelayMs: 1_000,
      register: true,
      ...options,
    };
    this.#consumerId = options.consumerId ?? hostname();
    this.#keys = bridgeKeys(options.keyPrefix);
  }

  status(): ConsumerStatus {
    return { ...this.#status };
  }

  /** Connect, subscribe, deliver what waits (in-flight first), and keep draining. */
  async start(): Promise<void> {
    const base: RedisOptions = {
      lazyConnect: true,
      maxRetriesPerRequest: null,
      retryStrategy: (times) => Math.min(100 * 2 ** Math.min(times, 6), 5_000),
      ...this.#options.redisOptions,
    };
    const cmd = new Redis(this.#options.url, { ...base, connectionName: `gateway-consumer-cmd-${this.#consumerId}` });
    const sub = new Redis(this.#options.url, { ...base, connectionName: `gateway-consumer-sub-${this.#consumerId}` });
    this.#cmd = cmd;
    this.#sub = sub;
    cmd.defineCommand("gatewayMoveBatch", { numberOfKeys: 2, lua: MOVE_BATCH });
    const setState = (state: ConsumerStatus["state"]) => {
      if (this.#status.state === state) return;
      this.#status.state = state;
      this.#status.since = Date.now();
    };
    cmd.on("ready", () => {
      setState("ready");
      if (this.#options.register) void cmd.sadd(this.#keys.sessions, ...this.#options.sessions).catch(() => {});
      this.drain();
    });
    cmd.on("reconnecting", () => setState("reconnecting"));
    const onError = (error: Error) => {
      this.#status.lastError = error.message;
      this.#options.onError?.(error);
    };
    cmd.on("error", onError);
    sub.on("error", onError);
    sub.on("message", () => this.drain());
    await Promise.all([cmd.connect(), sub.connect()]);
    await sub.subscribe(...this.#options.sessions.map(this.#keys.notify));
    this.#timer = setInterval(() => this.drain(), this.#options.pollIntervalMs);
    this.#timer.unref();
    await this.drain();
  }

  /** Drain now (coalesced: a drain requested while one runs makes it go round once more). */
  drain(): Promise<void> {
    if (this.#closed || !this.#cmd) return Promise.resolve();
    if (this.#draining) {
      this.#again = true;
      return this.#draining;
    }
    this.#draining = (async () => {
      try {
        do {
          this.#again = false;
          for (const session of this.#options.sessions) await this.#drainSession(session);
        } while (this.#again && !this.#closed);
      } catch (error) {
        this.#status.lastError = (error as Error).message;
        this.#options.onError?.(error as Error);
        if (!this.#closed) setTimeout(() => this.drain(), this.#options.retryDelayMs).unref();
      } finally {
        this.#draining = undefined;
      }
    })();
    return this.#draining;
  }

  async #drainSession(session: string): Promise<void> {
    const cmd = this.#cmd!;
    const keys = this.#keys;
    const inFlight = keys.processing(session, this.#consumerId);
    for (;;) {
      if (this.#closed) return;
      // What a crash (or a failed delivery) left in flight goes first; then a fresh batch. After an acknowledged
      // batch the in-flight list is known to be empty, which saves a round trip per batch.
      let raw = this.#inFlightEmpty.has(session) ? [] : (await cmd.lrange(inFlight, 0, -1)).reverse();
      this.#inFlightEmpty.delete(session);
      const recovered = raw.length > 0;
      if (!recovered)
        raw = (await (
          cmd as unknown as { gatewayMoveBatch(a: string, b: string, n: number): Promise<string[]> }
        ).gatewayMoveBatch(keys.events(session), inFlight, this.#options.batchSize)) as string[];
      if (raw.length === 0) {
        this.#inFlightEmpty.add(session);
        return;
      }
      const events: BridgeEvent[] = [];
      const dead: string[] = [];
      for (const entry of raw) {
        const event = parseEvent(entry);
        if (event) events.push(event);
        else dead.push(entry);
      }
      // Dedupe: ids already delivered (a producer's retry, a redelivery) are dropped, and so are repeats in a batch.
      const seen = events.length ? await cmd.mget(...events.map((event) => keys.seen(session, event.id))) : [];
      const fresh: BridgeEvent[] = [];
      const ids = new Set<string>();
      for (const [index, event] of events.entries()) {
        if (seen[index] !== null || ids.has(event.id)) continue;
        ids.add(event.id);
        if (recovered && this.#options.isDelivered && (await this.#options.isDelivered(event, session))) continue;
        fresh.push(event);
      }
      this.#status.duplicates += events.length - fresh.length;
      if (fresh.length > 0) await this.#options.deliver(fresh, session);
      const ack = cmd.multi();
      for (const event of events) ack.set(keys.seen(session, event.id), "1", "EX", this.#options.dedupeTtlSeconds);
      if (dead.length) ack.lpush(keys.dead(session), ...dead);
      ack.del(inFlight);
      await ack.exec();
      this.#inFlightEmpty.add(session);
      this.#status.delivered += fresh.length;
      this.#status.dead += dead.length;
      if (fresh.length) this.#status.lastDeliveredAt = Date.now();
    }
  }

  /** Stop draining, leave the live set, close both connections. In-flight events stay for the next start. */
  async stop(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    if (this.#timer) clearInterval(this.#timer);
    const cmd = this.#cmd;
    // A drain finishes what it delivers; but with Redis away its commands wait for Redis forever, and the gateway's
    // shutdown with them. Then it is left: what it had moved in flight stays there for the next start.
    if (this.#draining && cmd) {
      let away: (() => void) | undefined;
      await Promise.race([
        this.#draining.catch(() => {}),
        new Promise<void>((resolve) => {
          away = resolve;
          if (cmd.status !== "ready") resolve();
          cmd.once("reconnecting", resolve);
        }),
      ]);
      if (away) cmd.off("reconnecting", away);
    }
    if (cmd && this.#options.register && cmd.status === "ready")
      await cmd.srem(this.#keys.sessions, ...this.#options.sessions).catch(() => {});
    this.#sub?.disconnect();
    cmd?.disconnect();
    this.#status.state = "closed";
    this.#status.since = Date.now();
  }
}
