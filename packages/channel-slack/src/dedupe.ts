/**
 * Decides which delivery of a Slack event is processed. Slack delivers each event to one connection but retries it
 * (to another connection, or with `X-Slack-Retry-Num` over HTTP) when the ack seems lost, so the same event id can
 * arrive more than once — on one gateway, or on several gateways sharing one app (Socket Mode allows 10 connections).
 * The first claim of a key wins. Keys are event ids (`Ev…`) and messages (`message:<channel>:<ts>`: a mention comes
 * as two events). A scale-out deployment passes one backed by a shared store (Redis `SET NX EX`).
 */
export interface SlackEventDedupe {
  /** True the first time `key` is claimed (process the event), false for every repeat. */
  claim(key: string): boolean | Promise<boolean>;
}

/** Options of the in-memory dedupe. */
export interface MemoryEventDedupeOptions {
  /** How long an id is remembered (Slack retries for about an hour at most). @default 3600000 */
  ttlMs?: number;
  /** Most ids kept; the oldest go first. @default 20000 */
  limit?: number;
  now?: () => number;
}

/** A dedupe for one process: ids remembered for `ttlMs`, at most `limit` of them. */
export class MemoryEventDedupe implements SlackEventDedupe {
  readonly #seen = new Map<string, number>();
  readonly #ttlMs: number;
  readonly #limit: number;
  readonly #now: () => number;

  constructor(options: MemoryEventDedupeOptions = {}) {
    this.#ttlMs = options.ttlMs ?? 3_600_000;
    this.#limit = options.limit ?? 20_000;
    this.#now = options.now ?? Date.now;
  }

  claim(key: string): boolean {
    const now = this.#now();
    const seenAt = this.#seen.get(key);
    if (seenAt !== undefined && now - seenAt < this.#ttlMs) return false;
    this.#seen.delete(key);
    this.#seen.set(key, now);
    // Insertion order is age order: drop expired and surplus ids from the front.
    for (const [oldest, at] of this.#seen) {
      if (this.#seen.size <= this.#limit && now - at < this.#ttlMs) break;
      this.#seen.delete(oldest);
    }
    return true;
  }
}

/**
 * A dedupe across the instances of a fleet (`ChannelContext.claimOnce`): a repeat this instance saw is dropped without
 * asking the fleet; otherwise the first instance to claim the key processes the event. When the fleet store cannot
 * answer, the event is processed (a rare duplicate answer beats a lost message).
 */
export class FleetEventDedupe implements SlackEventDedupe {
  readonly #local: MemoryEventDedupe;

  constructor(
    private readonly claimOnce: (key: string) => Promise<boolean>,
    options: MemoryEventDedupeOptions = {},
  ) {
    this.#local = new MemoryEventDedupe(options);
  }

  async claim(key: string): Promise<boolean> {
    if (!this.#local.claim(key)) return false;
    return this.claimOnce(key).catch(() => true);
  }
}
