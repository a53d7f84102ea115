import { EventTable, type StateVersion } from "@gateway/protocol";
import type { GatewayConnection } from "./connection.js";
import type { GatewayMetrics } from "./metrics.js";

/** Who may receive an event: everyone, holders of a scope, or the addressed connections only. */
export type Audience = "all" | "operator.read" | "operator.pairing" | "addressed";

/** Options of one broadcast. */
export interface BroadcastOptions {
  /** Skip clients that are behind instead of queueing more for them. @default the event table's setting */
  dropIfSlow?: boolean;
  /** @default the event table's audience (operator.read for custom events) */
  audience?: Audience;
  /** Deliver only to these connection ids (required for `addressed` events). */
  connectionIds?: readonly string[];
  stateVersion?: StateVersion;
  /** The payload already serialised (a caller that measured it): used instead of serialising again. */
  payloadJson?: string;
}

/**
 * Sees each event `GatewayServer.broadcast()` sent to local clients, with its payload serialised once (undefined for
 * an event without payload) and the options it was sent with.
 */
export type BroadcastObserver = (event: string, payloadJson: string | undefined, options: BroadcastOptions) => void;

function canReceive(connection: GatewayConnection, audience: Audience): boolean {
  const identity = connection.identity;
  if (!identity) return false;
  if (audience === "all" || audience === "addressed") return true;
  if (identity.role !== "operator") return false;
  if (identity.scopes.includes("operator.admin")) return true;
  if (audience === "operator.read") {
    return identity.scopes.includes("operator.read") || identity.scopes.includes("operator.write");
  }
  return identity.scopes.includes(audience);
}

/**
 * Fan-out of events. The payload is serialised once per event; each client's frame is that text plus its own `seq`.
 * A client that is behind skips drop-if-slow events (its `seq` still advances, so it sees the gap and refetches);
 * a client whose backlog passes `maxBufferedBytes` is closed as a slow consumer without slowing anyone else.
 */
export class Broadcaster {
  readonly #corked: GatewayConnection[] = [];

  constructor(
    private readonly connections: ReadonlyMap<string, GatewayConnection>,
    private readonly limits: { slowThresholdBytes: number; maxBufferedBytes: number },
    private readonly metrics: GatewayMetrics,
    private readonly onSlowConsumer: (connection: GatewayConnection) => void,
  ) {}

  /** Send `event` to every connection in its audience; returns how many frames were written. */
  broadcast(event: string, payload: unknown, options: BroadcastOptions = {}): number {
    const definition = (EventTable as Record<string, { audience: Audience; dropIfSlow: boolean } | undefined>)[event];
    const audience = options.audience ?? definition?.audience ?? "operator.read";
    const dropIfSlow = options.dropIfSlow ?? definition?.dropIfSlow ?? false;
    const json = options.payloadJson ?? (payload === undefined ? undefined : JSON.stringify(payload));
    const head = `{"type":"event","event":${JSON.stringify(event)}${json === undefined ? "" : `,"payload":${json}`},"seq":`;
    const tail = options.stateVersion
      ? `,"stateVersion":{"presence":${options.stateVersion.presence},"health":${options.stateVersion.health}}}`
      : "}";
    const targets =
      options.connectionIds !== undefined
        ? options.connectionIds.map((id) => this.connections.get(id)).filter((c) => c !== undefined)
        : audience === "addressed"
          ? []
          : this.connections.values();
    let sent = 0;
    let dropped = 0;
    for (const connection of targets) {
      if (connection.state !== "ready" || !canReceive(connection, audience)) continue;
      const seq = ++connection.seq;
      const buffered = connection.bufferedBytes;
      if (buffered > this.limits.maxBufferedBytes) {
        this.onSlowConsumer(connection);
        continue;
      }
      if (dropIfSlow && buffered > this.limits.slowThresholdBytes) {
        dropped++;
        continue;
      }
      this.#cork(connection);
      connection.sendText(head + seq + tail);
      sent++;
      if (connection.bufferedBytes > this.limits.maxBufferedBytes) this.onSlowConsumer(connection);
    }
    if (sent > 0) this.metrics.eventsSent.inc({ event }, sent);
    if (dropped > 0) this.metrics.eventsDropped.inc({ event }, dropped);
    return sent;
  }

  /**
   * Batch every frame written to a connection in this tick into one write: a burst of events (a streamed reply, a
   * loop of broadcasts) costs one syscall per client instead of one per frame. Uncorked on the next tick.
   */
  #cork(connection: GatewayConnection): void {
    if (connection.corked || !connection.transport) return;
    connection.corked = true;
    connection.transport.cork();
    this.#corked.push(connection);
    if (this.#corked.length === 1) process.nextTick(this.#uncorkAll);
  }

  readonly #uncorkAll = (): void => {
    for (const connection of this.#corked) {
      connection.corked = false;
      connection.transport?.uncork();
    }
    this.#corked.length = 0;
  };
}
