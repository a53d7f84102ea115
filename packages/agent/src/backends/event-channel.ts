/**
 * A push-to-pull bridge: callbacks (a library's event listener, a child process's output) push values, a consumer
 * reads them with `for await`. Unbounded, because a run's events are few and the consumer is always reading.
 */
export class EventChannel<T> implements AsyncIterable<T> {
  readonly #values: T[] = [];
  #ended = false;
  #wake: (() => void) | undefined;

  push(value: T): void {
    if (this.#ended) return;
    this.#values.push(value);
    this.#wake?.();
  }

  /** No more values; the reader finishes after the ones already pushed. */
  end(): void {
    this.#ended = true;
    this.#wake?.();
  }

  async *[Symbol.asyncIterator](): AsyncIterator<T> {
    for (;;) {
      const value = this.#values.shift();
      if (value !== undefined) {
        yield value;
        continue;
      }
      if (this.#ended) return;
      await new Promise<void>((resolve) => {
        this.#wake = resolve;
      });
      this.#wake = undefined;
    }
  }
}
