import { isFatal, retryAfterOf } from "./errors.js";

/** Options of `retry` and of the reconnect supervisor. */
export interface BackoffOptions {
  /** @default 500 */
  baseMs?: number;
  /** @default 30000 */
  maxMs?: number;
  /** Fraction of each delay drawn at random (0–1). @default 0.2 */
  jitter?: number;
  random?: () => number;
}

/** The delay before attempt `attempt` (1-based): exponential, capped, with jitter. */
export function backoffDelay(attempt: number, options: BackoffOptions = {}): number {
  const base = options.baseMs ?? 500;
  const capped = Math.min(options.maxMs ?? 30_000, base * 2 ** Math.max(0, attempt - 1));
  const jitter = options.jitter ?? 0.2;
  return Math.round(capped * (1 - jitter + jitter * 2 * (options.random ?? Math.random)()));
}

const sleep = (ms: number, signal?: AbortSignal) =>
  new Promise<void>((resolve) => {
    if (signal?.aborted) return resolve();
    const timer = setTimeout(resolve, ms);
    signal?.addEventListener(
      "abort",
      () => {
        clearTimeout(timer);
        resolve();
      },
      { once: true },
    );
  });

/**
 * Call `fn` until it succeeds, up to `attempts` times: a fatal error stops at once, a `retryAfterMs` (HTTP 429) is
 * honoured, anything else waits an exponential backoff with jitter. Stops early when `signal` is aborted.
 */
export async function retry<T>(
  fn: (attempt: number) => Promise<T>,
  options: BackoffOptions & { attempts?: number; signal?: AbortSignal } = {},
): Promise<T> {
  const attempts = options.attempts ?? 4;
  for (let attempt = 1; ; attempt++) {
    try {
      return await fn(attempt);
    } catch (error) {
      if (isFatal(error) || attempt >= attempts || options.signal?.aborted) throw error;
      const after = retryAfterOf(error);
      await sleep(after ?? backoffDelay(attempt, options), options.signal);
      if (options.signal?.aborted) throw error;
    }
  }
}

/**
 * Keeps a connection up: `connect` runs again after each failure with backoff, until `stop()` or a fatal error. The
 * status callback sees every attempt. `stop()` during a wait ends it at once. A long-lived `connect` calls
 * `connected()` once it works, so the next outage starts its backoff from the first step again.
 */
export class ReconnectSupervisor {
  readonly #controller = new AbortController();
  #attempts = 0;
  #loop: Promise<void> | undefined;

  constructor(
    private readonly connect: (signal: AbortSignal, connected: () => void) => Promise<void>,
    private readonly options: BackoffOptions & {
      onAttempt?: (attempt: number, error: Error) => void;
      onFatal?: (error: Error) => void;
    } = {},
  ) {}

  get attempts(): number {
    return this.#attempts;
  }

  /** Run `connect` now and whenever it fails (or its connection ends by resolving). */
  start(): void {
    this.#loop ??= (async () => {
      while (!this.#controller.signal.aborted) {
        try {
          await this.connect(this.#controller.signal, () => {
            this.#attempts = 0;
          });
          this.#attempts = 0;
          if (this.#controller.signal.aborted) return;
        } catch (error) {
          if (this.#controller.signal.aborted) return;
          if (isFatal(error)) {
            this.options.onFatal?.(error as Error);
            return;
          }
          this.#attempts++;
          this.options.onAttempt?.(this.#attempts, error as Error);
          const after = retryAfterOf(error);
          await sleep(after ?? backoffDelay(this.#attempts, this.options), this.#controller.signal);
        }
      }
    })();
  }

  async stop(): Promise<void> {
    this.#controller.abort();
    await this.#loop;
  }
}
