import { StateError } from "./state-error.js";

/**
 * Writes one file's snapshots one at a time, in order, off the caller's path: while a write is in flight, newer
 * snapshots wait and only the newest of them is written next (older ones are superseded, their callers resolved by
 * the newer write). A failed write rejects every caller it covered with a StateError and is kept as `lastError`
 * until a write succeeds; nothing is retried behind the caller's back.
 */
export class SerialWriter<T> {
  #inFlight: Promise<void> | undefined;
  #next: { value: T; waiters: Array<{ resolve: () => void; reject: (error: unknown) => void }> } | undefined;
  #lastError: StateError | undefined;

  constructor(
    private readonly path: string,
    private readonly write: (value: T) => Promise<void>,
  ) {}

  /** The error of the last write, until one succeeds. */
  get lastError(): StateError | undefined {
    return this.#lastError;
  }

  /** Write `value` (after the one in flight); resolves when it, or a newer snapshot, is on disk. */
  save(value: T): Promise<void> {
    return new Promise((resolve, reject) => {
      if (this.#next) {
        this.#next.value = value;
        this.#next.waiters.push({ resolve, reject });
      } else {
        this.#next = { value, waiters: [{ resolve, reject }] };
      }
      if (!this.#inFlight) this.#drain();
    });
  }

  /** Resolves once nothing is waiting or in flight (errors are the callers'). */
  async idle(): Promise<void> {
    while (this.#inFlight) await this.#inFlight;
  }

  #drain(): void {
    const batch = this.#next;
    if (!batch) {
      this.#inFlight = undefined;
      return;
    }
    this.#next = undefined;
    this.#inFlight = this.write(batch.value).then(
      () => {
        this.#lastError = undefined;
        for (const waiter of batch.waiters) waiter.resolve();
        this.#drain();
      },
      (error: unknown) => {
        const failure = StateError.fromWrite(this.path, error);
        this.#lastError = failure;
        for (const waiter of batch.waiters) waiter.reject(failure);
        this.#drain();
      },
    );
  }
}
