import type { Redis } from "ioredis";

/** One instance as the fleet sees it. */
export interface FleetMember {
  id: string;
  host: string;
  pid: number;
  /** Where its clients connect (ws://…). */
  url: string;
  version: string;
  startedAt: number;
  /** When it last said it is alive. */
  seenAt: number;
  /** The leases it holds (channel accounts: `channel:<channel>:<account>`). */
  owns: string[];
}

/** Options of the registry. */
export interface FleetRegistryOptions {
  keyPrefix: string;
  /** How often this instance says it is alive. @default 2000 */
  intervalMs?: number;
  /** What this instance publishes about itself (called at each beat). */
  self: () => Omit<FleetMember, "seenAt">;
}

/**
 * Who is in the fleet: each instance writes its entry every `intervalMs`; an entry not refreshed for three intervals is
 * gone (and removed by whoever lists next). Two keys: a hash of entries and a sorted set of when each was last seen.
 */
export class FleetRegistry {
  #timer: NodeJS.Timeout | undefined;
  readonly #intervalMs: number;

  constructor(
    private readonly redis: Redis,
    readonly options: FleetRegistryOptions,
  ) {
    this.#intervalMs = options.intervalMs ?? 2_000;
  }

  get #entries(): string {
    return `${this.options.keyPrefix}instances`;
  }
  get #seen(): string {
    return `${this.options.keyPrefix}instances:seen`;
  }

  /** Join the fleet and keep saying so; errors (Redis away) are retried at the next beat. */
  async join(): Promise<void> {
    await this.beat();
    this.#timer = setInterval(() => void this.beat().catch(() => {}), this.#intervalMs);
    this.#timer.unref();
  }

  /** Write this instance's entry now. */
  async beat(): Promise<void> {
    const member: FleetMember = { ...this.options.self(), seenAt: Date.now() };
    await this.redis
      .multi()
      .hset(this.#entries, member.id, JSON.stringify(member))
      .zadd(this.#seen, member.seenAt, member.id)
      .exec();
  }

  /** The instances alive now (this one included), by id. */
  async members(): Promise<FleetMember[]> {
    const cutoff = Date.now() - 3 * this.#intervalMs;
    const stale = await this.redis.zrangebyscore(this.#seen, "-inf", `(${cutoff}`);
    if (stale.length > 0)
      await this.redis
        .multi()
        .zrem(this.#seen, ...stale)
        .hdel(this.#entries, ...stale)
        .exec();
    const ids = await this.redis.zrangebyscore(this.#seen, cutoff, "+inf");
    if (ids.length === 0) return [];
    const values = await this.redis.hmget(this.#entries, ...ids);
    return values
      .filter((value): value is string => value !== null)
      .map((value) => JSON.parse(value) as FleetMember)
      .sort((a, b) => a.id.localeCompare(b.id));
  }

  /** Leave the fleet (a clean stop). */
  async leave(id: string): Promise<void> {
    clearInterval(this.#timer);
    await this.redis.multi().zrem(this.#seen, id).hdel(this.#entries, id).exec();
  }
}

/**
 * Fleet-wide "first time?": true for exactly one caller per key within `ttlSeconds` (a platform that redelivers a
 * message to the instance that took an account over is answered once).
 */
export async function claimOnce(redis: Redis, key: string, ttlSeconds: number): Promise<boolean> {
  return (await redis.set(key, "1", "EX", ttlSeconds, "NX")) === "OK";
}
