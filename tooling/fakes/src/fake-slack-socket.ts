// The Socket Mode side of the fake Slack: WebSocket connections opened with a ticket from apps.connections.open,
// `hello`, `events_api` envelopes that must be acked (retried on another connection when they are not), `disconnect`
// messages, silent sockets, Slack's cap of 10 connections per app, and a count of open sockets per app.
import { randomUUID } from "node:crypto";
import type { IncomingMessage } from "node:http";
import type { Duplex } from "node:stream";
import { type WebSocket, WebSocketServer } from "ws";

/** How a socket has gone quiet: `half-open` answers nothing (no pongs either), `deaf` still answers pings. */
export type FakeSlackSilence = "half-open" | "deaf";

/** One Socket Mode connection as the fake sees it. */
export interface FakeSlackSocket {
  id: number;
  appId: string;
  openedAt: number;
  closedAt: number | undefined;
  /** Set once the fake sent `hello`. */
  hello: boolean;
  silent: FakeSlackSilence | false;
  /** Envelope ids delivered on this socket. */
  delivered: string[];
}

/** An event the fake delivers over Socket Mode, and what became of it. */
export interface FakeSlackDelivery {
  eventId: string;
  appId: string;
  payload: Record<string, unknown>;
  /** Deliveries so far (1 + retries). */
  attempts: number;
  /** The socket that acked it, once one did. */
  ackedBy: number | undefined;
  /** No ack after every retry. */
  failed: boolean;
}

interface LiveSocket {
  record: FakeSlackSocket;
  ws: WebSocket;
}

/** What the socket server needs from the rest of the fake. */
export interface SocketServerOptions {
  /** How long an envelope waits for its ack before it is sent again. @default 3000 */
  ackTimeoutMs: number;
  /** Retries of an envelope that is not acked (Slack: 3). @default 3 */
  maxRetries: number;
  /** Server pings per socket. @default 5000 */
  pingIntervalMs: number;
}

/** The Socket Mode server of the fake (internal to fake-slack.ts). */
export class FakeSocketServer {
  readonly sockets: FakeSlackSocket[] = [];
  readonly deliveries: FakeSlackDelivery[] = [];
  readonly #live = new Map<number, LiveSocket>();
  readonly #envelopes = new Map<string, FakeSlackDelivery>();
  readonly #tickets = new Map<string, string>();
  readonly #maxOpen = new Map<string, number>();
  readonly #pending = new Map<string, FakeSlackDelivery[]>();
  readonly #droppedAcks = new Map<string, number>();
  readonly #holdHello = new Set<string>();
  readonly #timers = new Set<NodeJS.Timeout>();
  readonly #server = new WebSocketServer({ noServer: true, autoPong: false });
  readonly #pinger: NodeJS.Timeout;
  #nextSocketId = 1;
  #roundRobin = 0;

  constructor(private readonly options: SocketServerOptions) {
    this.#pinger = setInterval(() => {
      for (const socket of this.#live.values()) if (!socket.record.silent) socket.ws.ping();
    }, options.pingIntervalMs);
    this.#pinger.unref();
  }

  /** A single-use ticket for `apps.connections.open`. */
  ticket(appId: string): string {
    const ticket = randomUUID();
    this.#tickets.set(ticket, appId);
    return ticket;
  }

  /** Take an HTTP upgrade to `/link/?ticket=…`; false when it is not one. */
  upgrade(request: IncomingMessage, socket: Duplex, head: Buffer): boolean {
    const url = new URL(request.url ?? "/", "http://fake");
    if (url.pathname !== "/link/") return false;
    const appId = this.#tickets.get(url.searchParams.get("ticket") ?? "");
    if (!appId) {
      socket.end("HTTP/1.1 401 Unauthorized\r\n\r\n");
      return true;
    }
    this.#tickets.delete(url.searchParams.get("ticket")!);
    this.#server.handleUpgrade(request, socket, head, (ws) => this.#accept(appId, ws));
    return true;
  }

  #accept(appId: string, ws: WebSocket): void {
    const record: FakeSlackSocket = {
      id: this.#nextSocketId++,
      appId,
      openedAt: Date.now(),
      closedAt: undefined,
      hello: false,
      silent: false,
      delivered: [],
    };
    const socket: LiveSocket = { record, ws };
    this.sockets.push(record);
    this.#live.set(record.id, socket);
    const open = this.openSockets(appId);
    this.#maxOpen.set(appId, Math.max(this.#maxOpen.get(appId) ?? 0, open));
    ws.on("ping", (data) => {
      if (record.silent !== "half-open") ws.pong(data);
    });
    ws.on("message", (data) => this.#onMessage(record, String(data)));
    ws.on("close", () => {
      this.#live.delete(record.id);
      record.closedAt = Date.now();
    });
    ws.on("error", () => undefined);
    if (open > 10) {
      // Slack's limit per app: the newest connection is told and closed.
      this.#send(socket, { type: "disconnect", reason: "too_many_websockets", debug_info: { host: "fake" } });
      ws.close();
      return;
    }
    if (!this.#holdHello.has(appId)) this.#hello(socket);
  }

  #hello(socket: LiveSocket): void {
    const { record } = socket;
    this.#send(socket, {
      type: "hello",
      num_connections: this.openSockets(record.appId),
      debug_info: { host: "fake-slack", build_number: 1, approximate_connection_time: 18060 },
      connection_info: { app_id: record.appId },
    });
    record.hello = true;
    const queued = this.#pending.get(record.appId) ?? [];
    this.#pending.delete(record.appId);
    for (const delivery of queued) this.#dispatch(delivery);
  }

  #onMessage(socket: FakeSlackSocket, raw: string): void {
    if (socket.silent) return;
    let message: { envelope_id?: string };
    try {
      message = JSON.parse(raw) as { envelope_id?: string };
    } catch {
      return;
    }
    const envelopeId = message.envelope_id;
    if (!envelopeId) return;
    const dropped = this.#droppedAcks.get(socket.appId) ?? 0;
    if (dropped > 0) {
      this.#droppedAcks.set(socket.appId, dropped - 1);
      return;
    }
    const delivery = this.#envelopes.get(envelopeId);
    if (delivery && delivery.ackedBy === undefined) {
      delivery.ackedBy = socket.id;
      this.#envelopes.delete(envelopeId);
    }
  }

  #send(socket: LiveSocket, message: unknown): void {
    if (socket.record.silent) return;
    if (socket.ws.readyState === socket.ws.OPEN) socket.ws.send(JSON.stringify(message));
  }

  /** Deliver an `event_callback` payload to one of the app's connections (queued until one says hello). */
  deliver(appId: string, eventId: string, payload: Record<string, unknown>): FakeSlackDelivery {
    const delivery: FakeSlackDelivery = { eventId, appId, payload, attempts: 0, ackedBy: undefined, failed: false };
    this.deliveries.push(delivery);
    this.#dispatch(delivery);
    return delivery;
  }

  /** Send an event again as Slack does when it saw no ack (even if one came: the ack may have been lost). */
  redeliver(delivery: FakeSlackDelivery): void {
    delivery.ackedBy = undefined;
    delivery.failed = false;
    this.#dispatch(delivery);
  }

  #dispatch(delivery: FakeSlackDelivery, avoid?: number): void {
    const candidates = [...this.#live.values()].filter(
      (socket) =>
        socket.record.appId === delivery.appId && socket.record.hello && socket.ws.readyState === socket.ws.OPEN,
    );
    const preferred = candidates.filter((socket) => socket.record.id !== avoid);
    const pool = preferred.length ? preferred : candidates;
    if (pool.length === 0) {
      this.#pending.set(delivery.appId, [...(this.#pending.get(delivery.appId) ?? []), delivery]);
      return;
    }
    const socket = pool[this.#roundRobin++ % pool.length]!;
    const envelopeId = randomUUID();
    const attempt = delivery.attempts++;
    this.#envelopes.set(envelopeId, delivery);
    socket.record.delivered.push(envelopeId);
    this.#send(socket, {
      envelope_id: envelopeId,
      payload: delivery.payload,
      type: "events_api",
      accepts_response_payload: false,
      retry_attempt: attempt,
      retry_reason: attempt === 0 ? "" : "timeout",
    });
    const timer = setTimeout(() => {
      this.#timers.delete(timer);
      if (delivery.ackedBy !== undefined || this.#envelopes.get(envelopeId) !== delivery) return;
      this.#envelopes.delete(envelopeId);
      if (delivery.attempts > this.options.maxRetries) delivery.failed = true;
      else this.#dispatch(delivery, socket.record.id);
    }, this.options.ackTimeoutMs);
    this.#timers.add(timer);
  }

  /** Open sockets of an app right now. */
  openSockets(appId: string): number {
    let open = 0;
    for (const socket of this.#live.values()) if (socket.record.appId === appId) open++;
    return open;
  }

  /** The most sockets the app ever had open at once. */
  maxOpenSockets(appId: string): number {
    return this.#maxOpen.get(appId) ?? 0;
  }

  /** Forget the high-water mark (a test measures from now). */
  resetMaxOpen(appId: string): void {
    this.#maxOpen.set(appId, this.openSockets(appId));
  }

  /** Send `disconnect` to the app's open sockets (all, or one), and cut them after `closeAfterMs` if still open. */
  disconnect(appId: string, reason: string, options: { socketId?: number; closeAfterMs?: number } = {}): number {
    let count = 0;
    for (const socket of [...this.#live.values()]) {
      const { record } = socket;
      if (record.appId !== appId || (options.socketId !== undefined && record.id !== options.socketId)) continue;
      this.#send(socket, { type: "disconnect", reason, debug_info: { host: "fake-slack" } });
      count++;
      const timer = setTimeout(() => {
        this.#timers.delete(timer);
        socket.ws.terminate();
      }, options.closeAfterMs ?? 2_000);
      this.#timers.add(timer);
    }
    return count;
  }

  /** Make a socket go quiet: nothing is sent on it and acks on it are lost (`half-open`: no pongs either). */
  silence(socketId: number, mode: FakeSlackSilence): void {
    const socket = this.#live.get(socketId);
    if (!socket) throw new Error(`fake slack: no open socket ${socketId}`);
    socket.record.silent = mode;
  }

  /** Cut a socket without a word (a network blip): the client sees the connection drop. */
  drop(socketId: number): void {
    this.#live.get(socketId)?.ws.terminate();
  }

  /** Ignore the next `count` acks of the app (their envelopes are retried). */
  dropAcks(appId: string, count: number): void {
    this.#droppedAcks.set(appId, (this.#droppedAcks.get(appId) ?? 0) + count);
  }

  /** Hold `hello` on the app's new connections (they stay open, never ready), or release it. */
  holdHello(appId: string, hold: boolean): void {
    if (hold) this.#holdHello.add(appId);
    else this.#holdHello.delete(appId);
  }

  /** Cut every connection (an outage). */
  terminateAll(): void {
    for (const socket of this.#live.values()) socket.ws.terminate();
  }

  close(): void {
    clearInterval(this.#pinger);
    for (const timer of this.#timers) clearTimeout(timer);
    this.#timers.clear();
    this.terminateAll();
    this.#server.close();
  }
}
