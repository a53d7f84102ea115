/** A remembered outcome of a side-effecting call. */
interface Entry {
  readonly promise: Promise<unknown>;
  settled: boolean;
  expiresAt: number;
}

/**
 * `(method, idempotencyKey) → result` for side-effecting methods: a retry returns the first result; a retry while the
 * first is still running gets the same promise. Entries live `ttlMs`; at most `maxEntries` are kept (oldest evicted
 * first). Failures are not remembered, so a retry after an error runs again.
 */
export class IdempotencyCache {
  readonly #entries = new Map<string, Entry>();

  constructor(
    private readonly ttlMs: number,
    private readonly maxEntries: number,
    private readonly now: () => number = Date.now,
  ) {}

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
  run<T>(method: string, key: string, execute: () => Promise<T>): Promise<T> {
    const id = `${method}\u0000${key}`;
    const existing = this.#live(id);
    if (existing) return existing.promise as Promise<T>;
    const promise = execute();
    const entry: Entry = { promise, settled: false, expiresAt: Number.POSITIVE_INFINITY };
    this.#entries.set(id, entry);
    this.#evict();
    promise.then(
      () => {
        entry.settled = true;
        entry.expiresAt = this.now() + this.ttlMs;
      },
      () => {
        if (this.#entries.get(id) === entry) this.#entries.delete(id);
      },
    );
    return promise;
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
