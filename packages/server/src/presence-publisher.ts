import type { StateVersion } from "@gateway/protocol";
import type { Broadcaster } from "./broadcaster.js";
import type { GatewayConnection } from "./connection.js";
import type { GatewayMetrics } from "./metrics.js";
import type { PresenceStore } from "./presence.js";

/** Client modes that show presence (the reference's apps and Control UI); others get it when they ask for it. */
const READER_MODES = new Set(["ui", "webchat"]);

/** Whether a new connection shows presence: an operator that may read, from a UI. */
export function showsPresence(connection: GatewayConnection): boolean {
  const identity = connection.identity;
  if (!identity || identity.role !== "operator") return false;
  if (!identity.scopes.some((scope) => scope === "operator.read" || scope === "operator.admin")) return false;
  return READER_MODES.has(identity.client.mode);
}

/**
 * Presence changes out to the clients that show presence, costing O(changes), not O(clients²): only readers get
 * `presence` events (UIs, and clients that called `system-presence`); the list is serialised once per broadcast;
 * broadcasts are coalesced, at most one per `minIntervalMs` and, during a storm of changes, no more often than
 * `bytesPerSecond` allows for the whole audience. A reader that missed changes sees `stateVersion.presence` move on.
 */
export class PresencePublisher {
  readonly #readers = new Map<string, GatewayConnection>();
  #timer: NodeJS.Timeout | undefined;
  #earliest = 0;
  #closed = false;

  constructor(
    private readonly store: PresenceStore,
    private readonly broadcaster: Broadcaster,
    private readonly metrics: GatewayMetrics,
    private readonly stateVersion: () => StateVersion,
    private readonly limits: { minIntervalMs: number; bytesPerSecond: () => number },
    private readonly now: () => number = Date.now,
  ) {}

  /** Clients that receive presence events. */
  get readers(): number {
    return this.#readers.size;
  }

  isReader(connection: GatewayConnection): boolean {
    return this.#readers.has(connection.id);
  }

  /** From now on this connection gets presence events. */
  addReader(connection: GatewayConnection): void {
    this.#readers.set(connection.id, connection);
  }

  removeReader(connection: GatewayConnection): void {
    this.#readers.delete(connection.id);
  }

  /** The list changed: publish soon (coalesced with whatever else changes meanwhile). */
  changed(): void {
    if (this.#timer || this.#closed) return;
    const delay = Math.max(this.limits.minIntervalMs, this.#earliest - this.now());
    this.#timer = setTimeout(() => this.#publish(), delay);
    this.#timer.unref();
  }

  #publish(): void {
    this.#timer = undefined;
    if (this.#closed || this.#readers.size === 0) return;
    const payload = { presence: this.store.list() };
    const payloadJson = JSON.stringify(payload);
    const sent = this.broadcaster.broadcast("presence", payload, {
      audience: "addressed",
      connectionIds: [...this.#readers.keys()],
      stateVersion: this.stateVersion(),
      payloadJson,
    });
    const bytes = payloadJson.length * sent;
    this.metrics.presenceBytes.inc(bytes);
    // The next broadcast waits as long as this one's bytes take at the budget's rate.
    this.#earliest = this.now() + (bytes / Math.max(1, this.limits.bytesPerSecond())) * 1000;
  }

  close(): void {
    this.#closed = true;
    clearTimeout(this.#timer);
    this.#readers.clear();
  }
}
