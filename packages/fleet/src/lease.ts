import type { Redis } from "ioredis";

// Acquire: set the lease only when nobody holds it, with a fencing token from a counter that only grows, so a
// token tells every later reader which holder came last. Renew and release only while the value is still ours.
const ACQUIRE = `
if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end
local fence = redis.call('INCR', KEYS[2])
redis.call('SET', KEYS[1], ARGV[1] .. '|' .. fence, 'PX', ARGV[2])
return fence`;
const RENEW = `
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('PEXPIRE', KEYS[1], ARGV[2]) end
return 0`;
const RELEASE = `
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0`;

/** Who holds a lease, as stored in Redis. */
export interface LeaseHolder {
  owner: string;
  fence: number;
  /** Milliseconds left, or -1 when Redis does not say. */
  ttlMs: number;
}

/** Options of a lease. */
export interface LeaseOptions {
  /** The lease's key (the fencing counter is `<key>:fence`). */
  key: string;
  /** Who asks (an instance id). */
  owner: string;
  /** How long the lease lives without a renewal. */
  ttlMs: number;
}

/**
 * A lease in Redis with a fencing token: at most one owner at a time, for `ttlMs` after its last renewal. The token
 * (`fence`) grows with every new holder, so whatever a holder writes can carry it and an older holder's late write is
 * recognisable. A holder that cannot renew in time (Redis unreachable, the process paused) must stop acting: `held()`
 * is false once the lease may have passed to someone else.
 */
export class Lease {
  #fence: number | undefined;
  /** Until when (local monotonic clock) the lease is surely ours: the last successful renewal plus ttl. */
  #validUntil = 0;

  constructor(
    private readonly redis: Redis,
    readonly options: LeaseOptions,
  ) {}

  get fence(): number | undefined {
    return this.#fence;
  }

  /** Whether the lease is surely still ours (renewed within its ttl). */
  held(): boolean {
    return this.#fence !== undefined && performance.now() < this.#validUntil;
  }

  #value(): string {
    return `${this.options.owner}|${this.#fence}`;
  }

  /** Take the lease when it is free; resolves to the fencing token, or undefined when someone holds it. */
  async tryAcquire(): Promise<number | undefined> {
    const started = performance.now();
    const fence = Number(
      await this.redis.eval(
        ACQUIRE,
        2,
        this.options.key,
        `${this.options.key}:fence`,
        this.options.owner,
        this.options.ttlMs,
      ),
    );
    if (fence === 0) return undefined;
    this.#fence = fence;
    this.#validUntil = started + this.options.ttlMs;
    return fence;
  }

  /** Extend the lease; false when it is no longer ours (it expired and maybe passed on). */
  async renew(): Promise<boolean> {
    if (this.#fence === undefined) return false;
    const started = performance.now();
    const renewed = Number(await this.redis.eval(RENEW, 1, this.options.key, this.#value(), this.options.ttlMs)) === 1;
    if (renewed) this.#validUntil = started + this.options.ttlMs;
    else this.#fence = undefined;
    return renewed;
  }

  /** Give the lease up (only if still ours), so another instance takes over at once. */
  async release(): Promise<void> {
    if (this.#fence === undefined) return;
    const value = this.#value();
    this.#fence = undefined;
    await this.redis.eval(RELEASE, 1, this.options.key, value);
  }

  /** Who holds the lease now, if anyone. */
  static async holder(redis: Redis, key: string): Promise<LeaseHolder | undefined> {
    const [value, ttlMs] = await Promise.all([redis.get(key), redis.pttl(key)]);
    if (value === null) return undefined;
    const bar = value.lastIndexOf("|");
    return { owner: value.slice(0, bar), fence: Number(value.slice(bar + 1)), ttlMs };
  }
}
