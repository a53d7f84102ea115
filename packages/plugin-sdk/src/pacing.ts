/** Options of a pacer: the platform's limits. */
export interface PacerOptions {
  /** Messages per second across all chats. @default 30 */
  globalPerSecond?: number;
  /** Minimum gap between messages to one chat (or a function of the chat: groups often have a lower limit). @default 1000 */
  perChatIntervalMs?: number | ((chat: string) => number);
  now?: () => number;
  sleep?: (ms: number) => Promise<void>;
}

/**
 * Per-chat and global pacing: `await pacer.wait(chat)` before each send keeps a plugin inside the platform's limits
 * (FIFO per chat, so chunks of one reply stay in order).
 */
export class Pacer {
  readonly #options: Required<PacerOptions>;
  readonly #lastByChat = new Map<string, number>();
  readonly #chains = new Map<string, Promise<void>>();
  #globalSlots: number[] = [];

  constructor(options: PacerOptions = {}) {
    this.#options = {
      globalPerSecond: 30,
      perChatIntervalMs: 1000,
      now: Date.now,
      sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
      ...options,
    };
  }

  /** Resolve when a message to `chat` may be sent. */
  wait(chat: string): Promise<void> {
    const previous = this.#chains.get(chat) ?? Promise.resolve();
    const turn = previous.then(() => this.#take(chat));
    this.#chains.set(chat, turn);
    void turn.finally(() => {
      if (this.#chains.get(chat) === turn) this.#chains.delete(chat);
    });
    return turn;
  }

  async #take(chat: string): Promise<void> {
    const { now, sleep, perChatIntervalMs, globalPerSecond } = this.#options;
    for (;;) {
      const time = now();
      const interval = typeof perChatIntervalMs === "function" ? perChatIntervalMs(chat) : perChatIntervalMs;
      const chatReady = (this.#lastByChat.get(chat) ?? -Infinity) + interval;
      this.#globalSlots = this.#globalSlots.filter((slot) => slot > time - 1000);
      const globalReady = this.#globalSlots.length < globalPerSecond ? time : this.#globalSlots[0]! + 1000;
      const ready = Math.max(chatReady, globalReady);
      if (ready <= time) {
        this.#lastByChat.set(chat, time);
        this.#globalSlots.push(time);
        if (this.#lastByChat.size > 10_000) this.#lastByChat.delete(this.#lastByChat.keys().next().value!);
        return;
      }
      await sleep(ready - time);
    }
  }
}
