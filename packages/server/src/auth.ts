import { createHash, timingSafeEqual } from "node:crypto";

/** Compare a presented secret with the expected one in constant time (both are hashed to equal lengths first). */
export function secretsEqual(presented: string, expected: string): boolean {
  const a = createHash("sha256").update(presented, "utf8").digest();
  const b = createHash("sha256").update(expected, "utf8").digest();
  return timingSafeEqual(a, b);
}

interface AddressRecord {
  failures: number[];
  lockedUntil: number;
}

/**
 * Failed authentication attempts per remote address: after `maxFailures` within `windowMs`, the address is locked
 * out for `lockoutMs`. Memory is bounded: records are dropped once they are stale.
 */
export class AuthRateLimiter {
  readonly #records = new Map<string, AddressRecord>();

  constructor(
    private maxFailures: number,
    private windowMs: number,
    private lockoutMs: number,
    private readonly now: () => number = Date.now,
  ) {}

  /** New limits (a config edit); lockouts already running keep their end. */
  configure(maxFailures: number, windowMs: number, lockoutMs: number): void {
    this.maxFailures = maxFailures;
    this.windowMs = windowMs;
    this.lockoutMs = lockoutMs;
  }

  /** Milliseconds until `address` may try again, or 0 when it is not locked out. */
  retryAfterMs(address: string): number {
    const record = this.#records.get(address);
    if (!record) return 0;
    return Math.max(0, record.lockedUntil - this.now());
  }

  /** Record a failure; returns the lockout in ms when this failure triggered one, else 0. */
  recordFailure(address: string): number {
    const now = this.now();
    const record = this.#records.get(address) ?? { failures: [], lockedUntil: 0 };
    record.failures = record.failures.filter((at) => now - at < this.windowMs);
    record.failures.push(now);
    if (record.failures.length >= this.maxFailures) {
      record.lockedUntil = now + this.lockoutMs;
      record.failures = [];
    }
    this.#records.set(address, record);
    if (this.#records.size > 10_000) this.#prune(now);
    return Math.max(0, record.lockedUntil - now);
  }

  /** A success clears the address's failures. */
  recordSuccess(address: string): void {
    const record = this.#records.get(address);
    if (record && record.lockedUntil <= this.now()) this.#records.delete(address);
  }

  #prune(now: number): void {
    for (const [address, record] of this.#records) {
      const recent = record.failures.some((at) => now - at < this.windowMs);
      if (!recent && record.lockedUntil <= now) this.#records.delete(address);
    }
  }
}

/**
 * Who a failed attempt counts against: the remote address, and the browser origin when there is one — so a flood
 * from one client (a process, a web page) locks that client out, not every other client on the same address (the
 * CLI and the browser UI both come from 127.0.0.1).
 */
export function rateLimitKey(remoteAddress: string, origin: string | undefined): string {
  return origin === undefined ? remoteAddress : `${remoteAddress}|${origin}`;
}

/** A local process without a browser Origin (the CLI, a script) is never locked out; anyone else is. */
export function rateLimitExempt(
  remoteAddress: string,
  origin: string | undefined,
  isLoopback: (address: string) => boolean,
): boolean {
  return origin === undefined && isLoopback(remoteAddress);
}
