import type { Socket } from "node:net";
import type { CallerIdentity } from "@gateway/protocol";
import type { WebSocket } from "ws";

/** What the server knows about a connected client once its handshake succeeded (the protocol's caller identity). */
export type ConnectionIdentity = CallerIdentity;

/** One WebSocket connection: its state, identity, and event sequence. */
export class GatewayConnection {
  /** `open` until the handshake completes, then `ready`; `closing` once a close has begun. */
  state: "handshake" | "ready" | "closing" = "handshake";
  identity: ConnectionIdentity | undefined;
  /** Per-connection monotonic sequence of broadcast events (incremented even when an event is dropped). */
  seq = 0;
  readonly connectedAt = Date.now();
  challengeNonce = "";
  presenceKey: string | undefined;
  /** Whether writes are being batched until the end of the current tick (see Broadcaster). */
  corked = false;

  constructor(
    readonly id: string,
    readonly socket: WebSocket,
    /** The TCP socket under the WebSocket, corked to batch a burst of frames into one write. */
    readonly transport: Socket | undefined,
    readonly remoteAddress: string,
    readonly origin: string | undefined,
    readonly host: string | undefined,
    /** The upgrade request carried forwarded headers (it came through a proxy). */
    readonly forwarded = false,
  ) {}

  /** Bytes queued for this client and not yet written to the network. */
  get bufferedBytes(): number {
    return this.socket.bufferedAmount;
  }

  /** Send an already serialised frame. */
  sendText(text: string): void {
    if (this.socket.readyState === 1) this.socket.send(text);
  }

  /** Close with a code and a reason (reasons are capped at 123 bytes by the protocol). */
  close(code: number, reason: string, terminateAfterMs = 2_000): void {
    if (this.state === "closing") return;
    this.state = "closing";
    const socket = this.socket;
    try {
      socket.close(code, reason.slice(0, 120));
    } catch {
      socket.terminate();
      return;
    }
    // A client that never reads cannot finish the closing handshake: do not wait for it forever.
    const timer = setTimeout(() => socket.terminate(), terminateAfterMs);
    timer.unref();
    socket.once("close", () => clearTimeout(timer));
  }
}
