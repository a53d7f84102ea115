import { readFile, rename, writeFile } from "node:fs/promises";
import { backoffDelay } from "@gateway/plugin-sdk";

/** What `GET /gateway/bot` says about the bot's session starts (IDENTIFYs). */
export interface SessionStartLimit {
  total: number;
  remaining: number;
  resetAfterMs: number;
  maxConcurrency: number;
}

/** Why the next IDENTIFY waits, and how long. */
export interface IdentifyDelay {
  delayMs: number;
  reason: "spacing" | "backoff" | "budget" | "exhausted" | undefined;
}

/** Options of the guard. */
export interface SessionStartGuardOptions {
  /** Where the ledger is kept, so a restarted account or process remembers its IDENTIFYs. */
  path: string;
  /** `GET /gateway/bot`, fresh. */
  fetchLimit: () => Promise<SessionStartLimit>;
  now?: () => number;
  random?: () => number;
}

interface Ledger {
  /** IDENTIFY times of the last 24 hours. */
  identifies: number[];
  /** When a session last proved stable (IDENTIFYs after it are a streak that backs off). */
  stableAt: number | null;
  limit: { total: number; remaining: number; resetAt: number; fetchedAt: number; maxConcurrency: number } | null;
}

const DAY_MS = 86_400_000;
/** Discord: one IDENTIFY per 5 s per max_concurrency bucket. */
const IDENTIFY_SPACING_MS = 5_000;
/** Consecutive IDENTIFYs without a stable session in between wait 5 s, 10 s, 20 s … up to 10 min. */
const STREAK_BACKOFF = { baseMs: 5_000, maxMs: 600_000, jitter: 0.3 } as const;

/**
 * Keeps a bot inside Discord's session start limit (1,000 IDENTIFYs a day; a bot that exceeds it gets its token reset),
 * whatever the gateway does: IDENTIFYs at least 5 s apart, a backoff for IDENTIFYs that keep failing to hold a session,
 * the remaining budget spread over the time to its reset once half of it is gone, and no IDENTIFY at all when it is
 * nearly exhausted until Discord resets it. The ledger lives in the account's state dir, so a crash-looping process
 * still counts every IDENTIFY it made.
 */
export class SessionStartGuard {
  readonly #options: SessionStartGuardOptions;
  readonly #now: () => number;
  #ledger: Ledger;
  #writing: Promise<void> = Promise.resolve();

  private constructor(options: SessionStartGuardOptions, ledger: Ledger) {
    this.#options = options;
    this.#now = options.now ?? Date.now;
    this.#ledger = ledger;
  }

  /** Open the ledger at `options.path` (a missing or unreadable one starts empty). */
  static async open(options: SessionStartGuardOptions): Promise<SessionStartGuard> {
    const empty: Ledger = { identifies: [], stableAt: null, limit: null };
    const ledger = await readFile(options.path, "utf8")
      .then((text) => ({ ...empty, ...(JSON.parse(text) as Partial<Ledger>) }))
      .catch(() => empty);
    if (!Array.isArray(ledger.identifies)) ledger.identifies = [];
    return new SessionStartGuard(options, ledger);
  }

  /** IDENTIFYs in the last 24 hours (this process and earlier ones). */
  get identifiesToday(): number {
    return this.#recent().length;
  }

  /** The last known limit, with the IDENTIFYs made since subtracted. */
  get estimate(): { total: number; remaining: number; resetAt: number } | undefined {
    const limit = this.#ledger.limit;
    if (!limit) return undefined;
    if (limit.resetAt <= this.#now())
      return { total: limit.total, remaining: limit.total, resetAt: limit.resetAt + DAY_MS };
    const since = this.#recent().filter((at) => at >= limit.fetchedAt).length;
    return { total: limit.total, remaining: Math.max(0, limit.remaining - since), resetAt: limit.resetAt };
  }

  /** Remember what `GET /gateway/bot` said (discord.js fetches it at login). */
  noteLimit(limit: SessionStartLimit): void {
    const now = this.#now();
    this.#ledger.limit = {
      total: limit.total,
      remaining: limit.remaining,
      resetAt: now + limit.resetAfterMs,
      fetchedAt: now,
      maxConcurrency: limit.maxConcurrency,
    };
    this.#persist();
  }

  /** How long the next IDENTIFY must wait, and why (asks Discord for the true budget when it runs low). */
  async delayBeforeIdentify(): Promise<IdentifyDelay> {
    const now = this.#now();
    const recent = this.#recent();
    const last = recent.at(-1);
    let delay: IdentifyDelay = { delayMs: 0, reason: undefined };
    const raise = (delayMs: number, reason: IdentifyDelay["reason"]) => {
      if (delayMs > delay.delayMs) delay = { delayMs: Math.ceil(delayMs), reason };
    };
    if (last !== undefined) raise(last + IDENTIFY_SPACING_MS - now, "spacing");
    const stableAt = this.#ledger.stableAt ?? -Infinity;
    const streak = recent.filter((at) => at > stableAt).length;
    if (streak > 0 && last !== undefined)
      raise(
        last + backoffDelay(streak, { ...STREAK_BACKOFF, random: this.#options.random ?? Math.random }) - now,
        "backoff",
      );
    let estimate = this.estimate;
    const reserve = (total: number) => Math.max(3, Math.ceil(total * 0.02));
    if (!estimate || estimate.remaining <= reserve(estimate.total) * 2) {
      const fresh = await this.#options.fetchLimit().catch(() => undefined);
      if (fresh) this.noteLimit(fresh);
      estimate = this.estimate;
    }
    if (estimate) {
      const floor = reserve(estimate.total);
      if (estimate.remaining <= floor) raise(estimate.resetAt - now + 1_000, "exhausted");
      else if (estimate.remaining < estimate.total / 2 && last !== undefined)
        raise(last + (estimate.resetAt - now) / (estimate.remaining - floor) - now, "budget");
    }
    return delay;
  }

  /** How long until Discord's 5 s between IDENTIFYs has passed (the part of the wait that never varies). */
  spacingDelay(): number {
    const last = this.#recent().at(-1);
    return last === undefined ? 0 : Math.max(0, last + IDENTIFY_SPACING_MS - this.#now());
  }

  /** An IDENTIFY is being sent now. */
  recordIdentify(): void {
    this.#ledger.identifies = [...this.#recent(), this.#now()];
    this.#persist();
  }

  /** The session held: later IDENTIFYs start a new streak. */
  markStable(): void {
    this.#ledger.stableAt = this.#now();
    this.#persist();
  }

  /** Resolve when the ledger is on disk. */
  flush(): Promise<void> {
    return this.#writing;
  }

  #recent(): number[] {
    const since = this.#now() - DAY_MS;
    return this.#ledger.identifies.filter((at) => at > since);
  }

  /** Write the ledger atomically, one write at a time, never blocking the caller. */
  #persist(): void {
    const text = JSON.stringify(this.#ledger);
    const temporary = `${this.#options.path}.tmp`;
    this.#writing = this.#writing
      .then(() => writeFile(temporary, text, { mode: 0o600 }))
      .then(() => rename(temporary, this.#options.path))
      .catch(() => undefined);
  }
}
