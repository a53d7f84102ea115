import type { AgentHost } from "./agent-host.js";

/**
 * System events waiting for a session's next run (`wake` with next-heartbeat, background events, the host's
 * `system-event` queue), the newest 100 per session, kept in memory.
 */
export class SystemEventQueue {
  readonly #events = new Map<string, Array<{ text: string; ts: number }>>();

  constructor(
    private readonly host: AgentHost,
    private readonly mainSessionKey: string,
  ) {}

  /** Queue a line of text for the session's next run. */
  enqueue(text: string, sessionKey = this.mainSessionKey): void {
    const queue = this.#events.get(sessionKey) ?? [];
    queue.push({ text, ts: Date.now() });
    this.#events.set(sessionKey, queue.slice(-100));
  }

  /** The texts waiting for the session's next run. */
  pending(sessionKey = this.mainSessionKey): string[] {
    return (this.#events.get(sessionKey) ?? []).map((event) => event.text);
  }

  /** Pending system events of a session (the host's included), as lines that open its next input. */
  take(sessionKey: string): string {
    for (const event of this.host.drainSystemEvents?.() ?? []) this.enqueue(event.text, event.sessionKey);
    const queue = this.#events.get(sessionKey);
    if (!queue?.length) return "";
    this.#events.delete(sessionKey);
    return `${queue.map((event) => `System: [${new Date(event.ts).toISOString()}] ${event.text}`).join("\n")}\n\n`;
  }
}
