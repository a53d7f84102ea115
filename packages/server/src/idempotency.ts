import { ErrorCodes } from "@gateway/protocol";
import { ProtocolError } from "./errors.js";

/** A remembered outcome of a side-effecting call. */
interface Entry {
  readonly promise: Promise<Outcome<unknown>>;
  settled: boolean;
  expiresAt: number;
}

/** What a call with an idempotency key got: its result, and whether it was a replay (it did not run for this call). */
export interface Outcome<T> {
  result: T;
  replay: boolean;
}

/** What another instance of a fleet recorded for a key. */
export type SharedClaim = { state: "claimed" } | { state: "running" } | { state: "done"; result: unknown };

/**
 * Where a fleet keeps idempotency keys, so that a key sent to two instances runs once (`SET NX` in Redis). The
 * gateway package supplies it in fleet mode; without it keys are this instance's alone.
 */
export interface SharedIdempotency {
  /** Claim `id` for `ttlMs`: "claimed" (run it here), or what the instance that claimed it first recorded. */
  claim(id: string, ttlMs: number): Promise<SharedClaim>;
  /** Record the result of a claimed call (kept `ttlMs`). */
  settle(id: string, result: unknown, ttlMs: number): Promise<void>;
  /** Give a claim up (the call failed: a retry runs again, as on one instance). */
  release(id: string): Promise<void>;
  /** Told when the shared store could not be used (the call then runs under this instance's keys only). */
  onProblem?(message: string): void;
}

/** How long a duplicate waits for the instance that runs the call before it gives up. @default 60000 */
const SHARED_WAIT_MS = 60_000;
const SHARED_POLL_MS = 25;

/**
 * `(method, idempotencyKey) → result` for side-effecting methods: a retry returns the first result; a retry while the
 * first is still running gets the same promise (or `inFlight()` when the method has one). Entries live `ttlMs`; at
 * most `maxEntries` are kept (oldest evicted first). Failures are not remembered, so a retry after an error runs
 * again. With a shared store (`share()`, a fleet), the same holds across instances.
 */
export class IdempotencyCache {
  readonly #entries = new Map<string, Entry>();
  #shared: SharedIdempotency | undefined;

  constructor(
    private readonly ttlMs: number,
    private readonly maxEntries: number,
    private readonly now: () => number = Date.now,
  ) {}

  /** Keep keys fleet-wide from now on. */
  share(shared: SharedIdempotency): void {
    this.#shared = shared;
  }

  /** Whether a call with this key ran (or runs) within the TTL. */
  has(method: string, key: string): boolean {
    return this.#live(`${method}\u0000${key}`) !== undefined;
  }

  /** Whether a call with this key is still running. */
  isInFlight(method: string, key: string): boolean {
    const entry = this.#live(`${method}\u0000${key}`);
    return entry !== undefined && !entry.settled;
  }

  /** Run `execute` once per `(method, key)` within the TTL and share its outcome. */
  run<T>(method: string, key: string, execute: () => Promise<T>, inFlight?: () => T): Promise<Outcome<T>> {
    const id = `${method}\u0000${key}`;
    const existing = this.#live(id);
    if (existing) {
      if (!existing.settled && inFlight) return Promise.resolve({ result: inFlight(), replay: true });
      return existing.promise.then(({ result }) => ({ result: result as T, replay: true }));
    }
    let provisional = false;
    const promise = this.#shared
      ? this.#runShared(
          this.#shared,
          id,
          execute,
          inFlight &&
            (() => {
              provisional = true;
              return inFlight();
            }),
        )
      : execute().then((result) => ({ result, replay: false }));
    const entry: Entry = { promise, settled: false, expiresAt: Number.POSITIVE_INFINITY };
    this.#entries.set(id, entry);
    this.#evict();
    promise.then(
      () => {
        entry.settled = true;
        entry.expiresAt = this.now() + this.ttlMs;
        // An in-flight answer stands for a run elsewhere: the next retry asks again for the real result.
        if (provisional && this.#entries.get(id) === entry) this.#entries.delete(id);
      },
      () => {
        if (this.#entries.get(id) === entry) this.#entries.delete(id);
      },
    );
    return promise;
  }

  async #runShared<T>(
    shared: SharedIdempotency,
    id: string,
    execute: () => Promise<T>,
    inFlight: (() => T) | undefined,
  ): Promise<Outcome<T>> {
    const deadline = this.now() + SHARED_WAIT_MS;
    for (;;) {
      let claim: SharedClaim;
      try {
        claim = await shared.claim(id, this.ttlMs);
      } catch (error) {
        shared.onProblem?.(
          `idempotency keys cannot be checked fleet-wide (${(error as Error).message}); this call is deduplicated on this instance only`,
        );
        return { result: await execute(), replay: false };
      }
      if (claim.state === "done") return { result: claim.result as T, replay: true };
      if (claim.state === "claimed") {
        let result: T;
        try {
          result = await execute();
        } catch (error) {
          await shared.release(id).catch(() => undefined);
          throw error;
        }
        await shared.settle(id, result, this.ttlMs).catch((error: Error) => {
          shared.onProblem?.(`the result of an idempotent call could not be shared (${error.message})`);
        });
        return { result, replay: false };
      }
      if (inFlight) return { result: inFlight(), replay: true };
      if (this.now() > deadline)
        throw new ProtocolError(
          ErrorCodes.UNAVAILABLE,
          "the same idempotencyKey is still running on another instance of the fleet; retry later",
          { retryable: true },
        );
      await new Promise((resolve) => setTimeout(resolve, SHARED_POLL_MS));
    }
  }

  /** How many entries are held. */
  get size(): number {
    return this.#entries.size;
  }

  #live(id: string): Entry | undefined {
    const entry = this.#entries.get(id);
    if (entry?.settled && entry.expiresAt <= this.now()) {
      this.#entries.delete(id);
      return undefined;
    }
    return entry;
  }

  #evict(): void {
    if (this.#entries.size <= this.maxEntries) return;
    const now = this.now();
    for (const [id, entry] of this.#entries) {
      if (entry.settled && entry.expiresAt <= now) this.#entries.delete(id);
    }
    // Still over: drop the oldest settled entries (insertion order); running calls are never dropped.
    for (const [id, entry] of this.#entries) {
      if (this.#entries.size <= this.maxEntries) break;
      if (entry.settled) this.#entries.delete(id);
    }
  }
}
