/** The scheduler's one timer, armed for the next due job. */
export class WakeTimer {
  readonly #wake: () => void;
  readonly #recheckMs: number;
  #timer: NodeJS.Timeout | undefined;

  /** `recheckMs`: the longest it sleeps (timers count elapsed time, schedules are in wall-clock time). */
  constructor(wake: () => void, recheckMs: number) {
    this.#wake = wake;
    this.#recheckMs = recheckMs;
  }

  /** Wake at `atMs` or within `recheckMs`, whichever comes first; `null`: sleep until set again. */
  set(atMs: number | null, now: number): void {
    this.clear();
    if (atMs === null) return;
    this.#timer = setTimeout(() => this.#wake(), Math.min(Math.max(0, atMs - now), this.#recheckMs));
    this.#timer.unref();
  }

  /** Stop the timer (idempotent). */
  clear(): void {
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = undefined;
  }
}
