// Socket Mode for one account, on @slack/socket-mode 3.1.0 with what it lacks added around it:
// - a watchdog: a socket that hears nothing from Slack (no ping, no message) for `silenceMs` is replaced. The library
//   only times out server pings after the first one arrived, and its pong check passes on a socket Slack no longer
//   routes to;
// - make-before-break: on a `disconnect` message (refresh_requested…) or silence, a new connection is opened and
//   greeted before the old one is closed, instead of closing first and reconnecting after clientPingTimeout × n;
// - a socket ledger: every WebSocket goes through our own connector, so the plugin knows each TCP socket and destroys
//   every one it replaces (before a connection dials, its previous socket and every socket of a retired connection
//   are destroyed). At most two are open per account: the current one and, during a swap, its replacement;
// - failures the library would loop on or leave unhandled (apps.connections.open errors retried forever, a reconnect
//   whose start() rejects with nobody listening, a hello that never comes, `link_disabled`) end the connection and go
//   to the account's supervisor: exponential backoff with jitter, or fatal with the fix.
import { subscribe, unsubscribe } from "node:diagnostics_channel";
import type { Socket } from "node:net";
import { type ChannelError, type ChannelLogger, ChannelNetworkError, ChannelPlatformError } from "@gateway/plugin-sdk";
import type { Logger, webApi } from "@slack/bolt";
import { SocketModeClient } from "@slack/socket-mode";
import { Agent, buildConnector } from "undici";
import { classifySlackError, describeSlackError, isAccountFatal } from "./errors.js";

/** What arrives on a socket for the receiver: an envelope and how to ack it. */
export interface SlackEnvelope {
  type: string;
  body: Record<string, unknown>;
  retryNum: number | undefined;
  retryReason: string | undefined;
  ack(): Promise<void>;
}

/** Options of a Socket Mode link. */
export interface SocketLinkOptions {
  appToken: string;
  apiUrl: string;
  logger: ChannelLogger;
  slackLogger: Logger;
  clientPingTimeoutMs: number;
  serverPingTimeoutMs: number;
  silenceMs: number;
  helloTimeoutMs: number;
  onEnvelope(envelope: SlackEnvelope): void;
  /** The socket state changed (for status). */
  onChange(): void;
}

/** The link's state, for status and tests. */
export interface SocketLinkState {
  state: "connecting" | "open" | "reconnecting" | "closed";
  openSockets: number;
  /** The most sockets this account had open at once. */
  maxOpenSockets: number;
  /** Connections replaced (swaps) plus the library's own reconnects. */
  reconnects: number;
  lastDisconnectReason: string | null;
  /** Slack's count of connections of this app at the last hello (several gateways may share one app). */
  appConnections: number | null;
}

type Trouble = { kind: "replace"; reason: string } | { kind: "fail"; error: ChannelError };

interface Connection {
  id: number;
  client: SocketModeClient;
  agent: Agent;
  sockets: Set<Socket>;
  retired: boolean;
  /** It raised a trouble: it is being replaced or has failed (its own reconnects are off). */
  doomed: boolean;
  lastFrameAt: number;
  /** The library's close-handshake timer of the socket it was closing when this connection was retired. */
  handshakeTimer: NodeJS.Timeout | undefined;
  trouble: Promise<Trouble>;
  raise(trouble: Trouble): void;
}

/** The parts of the library's client we reach into (the pinned 3.1.0 keeps them as plain fields). */
interface ClientInternals {
  autoReconnectEnabled: boolean;
  start(): Promise<unknown>;
  websocket?: { closeHandshakeTimeout?: NodeJS.Timeout };
}

// undici reports every WebSocket's handshake and server pings here (the library reads pings the same way).
const PING_CHANNEL = "undici:websocket:ping";
const OPEN_CHANNEL = "undici:websocket:open";

/** Socket Mode connections of one account (see the top of this file). `run` is the supervised loop. */
export class SocketLink {
  readonly #options: SocketLinkOptions;
  readonly #connections = new Set<Connection>();
  readonly #byWebSocket = new WeakMap<object, Connection>();
  #active: Connection | undefined;
  #watchdog: NodeJS.Timeout | undefined;
  #nextId = 1;
  #state: SocketLinkState = {
    state: "closed",
    openSockets: 0,
    maxOpenSockets: 0,
    reconnects: 0,
    lastDisconnectReason: null,
    appConnections: null,
  };

  constructor(options: SocketLinkOptions) {
    this.#options = options;
  }

  get state(): SocketLinkState {
    return { ...this.#state, openSockets: this.#openSockets() };
  }

  /** Open the first connection (throws when it cannot be had) and start watching for silent sockets. */
  async start(signal: AbortSignal): Promise<void> {
    if (!this.#watchdog) {
      subscribe(PING_CHANNEL, this.#onPing);
      subscribe(OPEN_CHANNEL, this.#onOpen);
      this.#watchdog = setInterval(() => this.#watch(), Math.max(25, Math.min(1_000, this.#options.silenceMs / 4)));
      this.#watchdog.unref();
    }
    this.#setState("connecting");
    this.#active = await this.#open(signal);
    this.#setState("open");
  }

  /**
   * Keep a connection up until `signal` aborts (the supervised loop): the one `start` opened, else a new one;
   * replaced on a `disconnect` message or silence; throws (for the supervisor's backoff, or fatal) when a connection
   * fails in a way the library does not recover from.
   */
  async run(signal: AbortSignal, connected: () => void): Promise<void> {
    let stopListening = (): void => undefined;
    try {
      if (!this.#active) {
        this.#setState("connecting");
        this.#active = await this.#open(signal);
        this.#setState("open");
      }
      connected();
      const { aborted, dispose } = abortion(signal);
      stopListening = dispose;
      for (;;) {
        const trouble = await Promise.race([this.#active.trouble, aborted]);
        if (!trouble) return;
        if (trouble.kind === "fail") throw trouble.error;
        this.#options.logger.info(`slack: replacing the Socket Mode connection: ${trouble.reason}`);
        const replacement = await this.#open(signal);
        const old = this.#active;
        this.#active = replacement;
        this.#retire(old);
        this.#state.reconnects++;
        this.#setState("open");
      }
    } finally {
      stopListening();
      this.#retireAll();
    }
  }

  /** Close everything, for good (the account stops); resolves when every socket is closed. Idempotent. */
  async close(): Promise<void> {
    if (this.#watchdog) {
      clearInterval(this.#watchdog);
      this.#watchdog = undefined;
      unsubscribe(PING_CHANNEL, this.#onPing);
      unsubscribe(OPEN_CHANNEL, this.#onOpen);
    }
    const closing = this.#retireAll().map(
      (socket) => new Promise<void>((resolve) => (socket.closed ? resolve() : socket.once("close", () => resolve()))),
    );
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([Promise.all(closing), new Promise((resolve) => (timer = setTimeout(resolve, 2_000)))]);
    clearTimeout(timer);
  }

  /** Retire every connection now; returns the sockets that were destroyed. */
  #retireAll(): Socket[] {
    const sockets: Socket[] = [];
    for (const connection of this.#connections) {
      sockets.push(...connection.sockets);
      this.#retire(connection, { now: true });
    }
    this.#active = undefined;
    this.#setState("closed");
    return sockets;
  }

  /** A new connection, resolved once Slack said hello; retired and thrown away when that does not happen. */
  async #open(signal: AbortSignal): Promise<Connection> {
    const connection = this.#create();
    let timer: NodeJS.Timeout | undefined;
    const helloTimeout = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () =>
          reject(
            new ChannelNetworkError(
              "apps.connections.open",
              `Slack did not greet the new Socket Mode connection (hello) within ${this.#options.helloTimeoutMs} ms`,
            ),
          ),
        this.#options.helloTimeoutMs,
      );
    });
    const start = (connection.client as unknown as { originalStart(): Promise<unknown> }).originalStart();
    const { aborted, dispose } = abortion(signal);
    try {
      await Promise.race([
        start,
        helloTimeout,
        connection.trouble.then((trouble) => {
          throw trouble.kind === "fail"
            ? trouble.error
            : new ChannelNetworkError("apps.connections.open", `the new connection closed at once: ${trouble.reason}`);
        }),
        aborted,
      ]);
      if (signal.aborted) throw new ChannelNetworkError("apps.connections.open", "stopped");
      return connection;
    } catch (error) {
      this.#retire(connection, { now: true });
      throw classifySlackError("apps.connections.open", error, this.#options.apiUrl);
    } finally {
      clearTimeout(timer);
      dispose();
      start.catch(() => undefined);
    }
  }

  #create(): Connection {
    const id = this.#nextId++;
    let raise: (trouble: Trouble) => void = () => undefined;
    const trouble = new Promise<Trouble>((resolve) => {
      raise = resolve;
    });
    const sockets = new Set<Socket>();
    const baseConnect = buildConnector({ allowH2: false });
    // Declared before the client so the connector and the fetch observer can reach it.
    const connection = { id, sockets, retired: false, doomed: false, lastFrameAt: Date.now(), trouble } as Connection;
    connection.raise = (next) => {
      if (connection.retired || connection.doomed) return;
      connection.doomed = true;
      (connection.client as unknown as ClientInternals).autoReconnectEnabled = false;
      raise(next);
    };
    connection.agent = new Agent({
      connect: (options, callback) => {
        if (connection.retired) {
          callback(new Error("this Socket Mode connection was replaced"), null);
          return;
        }
        // Room first: the sockets this one replaces are gone before it is dialled, so Slack never counts three.
        this.#makeRoom(connection);
        baseConnect(options, (error, socket) => {
          if (!socket) {
            callback(error ?? new Error("no socket"), null);
            return;
          }
          this.#admit(connection, socket as Socket);
          callback(null, socket);
        });
      },
    });
    const client = new SocketModeClient({
      appToken: this.#options.appToken,
      logger: this.#options.slackLogger,
      autoReconnectEnabled: true,
      clientPingTimeout: this.#options.clientPingTimeoutMs,
      serverPingTimeout: this.#options.serverPingTimeoutMs,
      dispatcher: connection.agent,
      clientOptions: {
        slackApiUrl: this.#options.apiUrl,
        // Retries of apps.connections.open belong to the account's supervisor (backoff with jitter).
        retryConfig: { retries: 0 },
        rejectRateLimitedCalls: true,
        timeout: 30_000,
        fetch: this.#observingFetch(connection) as unknown as NonNullable<webApi.WebClientOptions["fetch"]>,
      },
    });
    connection.client = client;
    const internals = client as unknown as ClientInternals & { originalStart(): Promise<unknown> };
    const start = client.start.bind(client);
    internals.originalStart = start;
    // The library calls start() again after a close with nobody catching it: a failure ends this connection instead of
    // becoming an unhandled rejection (and an account that silently stays down).
    internals.start = () =>
      start().catch((error: unknown) => {
        connection.raise({ kind: "fail", error: classifySlackError("socket reconnect", error, this.#options.apiUrl) });
        return undefined;
      });
    client.on("ws_message", (data: unknown) => this.#onMessage(connection, data));
    client.on("slack_event", (args: SlackEventArgs) => this.#onEvent(connection, args));
    client.on("close", () => this.#onClose(connection));
    client.on("connected", () => this.#onConnected(connection));
    this.#connections.add(connection);
    return connection;
  }

  /**
   * A fetch for the library's apps.connections.open that sees each answer: a failure ends the connection at once
   * (fatal codes with the fix, 429 with its wait), instead of the library retrying it forever on a fixed step.
   */
  #observingFetch(connection: Connection): typeof fetch {
    const fail = (error: ChannelError) => connection.raise({ kind: "fail", error });
    return async (input, init) => {
      let response: Response;
      try {
        response = await fetch(input, init);
      } catch (error) {
        fail(
          new ChannelNetworkError(
            "apps.connections.open",
            `cannot reach the Slack Web API at ${this.#options.apiUrl}: ${(error as { cause?: { code?: string } }).cause?.code ?? (error as Error).message}`,
            { cause: error },
          ),
        );
        throw error;
      }
      if (response.status === 429) {
        const seconds = Number(response.headers.get("retry-after") ?? 1);
        fail(
          new ChannelPlatformError("apps.connections.open", `rate limited by Slack, retry after ${seconds} s`, {
            status: 429,
            retryAfterMs: seconds * 1000,
          }),
        );
        return response;
      }
      const body = (await response
        .clone()
        .json()
        .catch(() => undefined)) as { ok?: boolean; error?: string; needed?: string } | undefined;
      if (response.status !== 200 || !body?.ok) {
        const code = body?.error ?? `http_${response.status}`;
        const described = describeSlackError(code, body?.needed);
        fail(
          new ChannelPlatformError("apps.connections.open", described.message, {
            status: code,
            fatal: isAccountFatal(code),
          }),
        );
      }
      return response;
    };
  }

  /** `connection` is about to dial: its previous socket and every socket of a retired connection are destroyed. */
  #makeRoom(connection: Connection): void {
    for (const previous of connection.sockets) previous.destroy();
    for (const other of this.#connections) if (other.retired) for (const stale of other.sockets) stale.destroy();
  }

  /** A socket of `connection` is open: it is counted, and closed with the connection. */
  #admit(connection: Connection, socket: Socket): void {
    // A predecessor that raced the dial (the library reconnecting meanwhile) does not outlive it.
    for (const previous of connection.sockets) previous.destroy();
    connection.sockets.add(socket);
    connection.lastFrameAt = Date.now();
    socket.once("close", () => {
      connection.sockets.delete(socket);
      this.#options.onChange();
    });
    const open = this.#openSockets();
    if (open > this.#state.maxOpenSockets) this.#state.maxOpenSockets = open;
    this.#options.onChange();
  }

  #openSockets(): number {
    let open = 0;
    for (const connection of this.#connections) for (const socket of connection.sockets) if (!socket.destroyed) open++;
    return open;
  }

  readonly #onOpen = (raw: unknown): void => {
    const message = raw as { websocket: object; address: { port?: number } | null };
    const port = message.address?.port;
    for (const connection of this.#connections)
      for (const socket of connection.sockets)
        if (socket.localPort === port) {
          this.#byWebSocket.set(message.websocket, connection);
          return;
        }
  };

  readonly #onPing = (raw: unknown): void => {
    const connection = this.#byWebSocket.get((raw as { websocket: object }).websocket);
    if (connection) connection.lastFrameAt = Date.now();
  };

  #onMessage(connection: Connection, data: unknown): void {
    connection.lastFrameAt = Date.now();
    if (typeof data !== "string" || data.length > 4_000) return;
    if (!data.includes('"hello"') && !data.includes('"disconnect"')) return;
    let message: { type?: string; reason?: string; num_connections?: number };
    try {
      message = JSON.parse(data) as typeof message;
    } catch {
      return;
    }
    if (message.type === "hello") {
      this.#state.appConnections = message.num_connections ?? null;
      if ((message.num_connections ?? 1) > 2)
        this.#options.logger.info(
          `slack: Slack counts ${message.num_connections} Socket Mode connections for this app: each event goes to one of them (another gateway or script shares the app)`,
        );
      return;
    }
    if (message.type !== "disconnect") return;
    const reason = message.reason ?? "unknown";
    this.#state.lastDisconnectReason = reason;
    this.#options.onChange();
    // This connection is on its way out: the replacement is ours to open, not the library's (raise turns its
    // reconnects off, so there is no second one).
    if (reason === "link_disabled")
      connection.raise({
        kind: "fail",
        error: new ChannelPlatformError(
          "socket",
          "Slack disabled Socket Mode for this app (link_disabled): turn it on again under Settings → Socket Mode, or set channels.slack.mode to http",
          { status: reason, fatal: true },
        ),
      });
    else if (reason === "too_many_websockets")
      connection.raise({
        kind: "replace",
        reason:
          "Slack refused the connection (too_many_websockets): this app already has 10 Socket Mode connections — other gateways or scripts share it",
      });
    else connection.raise({ kind: "replace", reason: `Slack asked for a new connection (${reason})` });
  }

  #onEvent(connection: Connection, args: SlackEventArgs): void {
    connection.lastFrameAt = Date.now();
    this.#options.onEnvelope({
      type: args.type,
      body: args.body,
      retryNum: args.retry_num,
      retryReason: args.retry_reason,
      ack: () => args.ack({}),
    });
  }

  #onClose(connection: Connection): void {
    if (connection !== this.#active || connection.doomed || connection.retired) return;
    // The library reconnects by itself (clientPingTimeout × failures later); until its hello we are not receiving.
    this.#state.reconnects++;
    this.#setState("reconnecting");
  }

  #onConnected(connection: Connection): void {
    if (connection === this.#active && this.#state.state === "reconnecting") this.#setState("open");
  }

  /** The watchdog: the current connection heard nothing from Slack for too long. */
  #watch(): void {
    const active = this.#active;
    if (!active || active.doomed) return;
    const silent = Date.now() - active.lastFrameAt;
    if (silent > this.#options.silenceMs)
      active.raise({ kind: "replace", reason: `nothing from Slack for ${silent} ms (a silent socket)` });
  }

  /** Close a connection for good: no reconnects of its own, its close frame sent, its sockets destroyed. */
  #retire(connection: Connection, options: { now?: boolean } = {}): void {
    const internals = connection.client as unknown as ClientInternals;
    if (!connection.retired) {
      connection.retired = true;
      internals.autoReconnectEnabled = false;
      connection.client.disconnect().catch(() => undefined);
      // The library arms a 30 s close-handshake timer here, and a second disconnect() (its error handler, once we
      // destroy the socket) overwrites it without clearing it: a timer that would hold the process for 30 s.
      connection.handshakeTimer = internals.websocket?.closeHandshakeTimeout;
    }
    const destroy = () => {
      clearTimeout(connection.handshakeTimer);
      for (const socket of connection.sockets) socket.destroy();
      connection.sockets.clear();
      this.#connections.delete(connection);
      void connection.agent.close().catch(() => undefined);
      this.#options.onChange();
    };
    if (options.now) destroy();
    // A moment for the close handshake; the next admitted socket destroys these sooner if it comes first.
    else setTimeout(destroy, 1_000).unref();
  }

  #setState(state: SocketLinkState["state"]): void {
    this.#state.state = state;
    this.#options.onChange();
  }
}

/** A promise that resolves (with undefined) when `signal` aborts, and how to stop listening. */
function abortion(signal: AbortSignal): { aborted: Promise<undefined>; dispose(): void } {
  let listener = (): void => undefined;
  const aborted = new Promise<undefined>((resolve) => {
    listener = () => resolve(undefined);
    if (signal.aborted) resolve(undefined);
    else signal.addEventListener("abort", listener, { once: true });
  });
  return { aborted, dispose: () => signal.removeEventListener("abort", listener) };
}

/** What the library emits as `slack_event`. */
interface SlackEventArgs {
  type: string;
  body: Record<string, unknown>;
  retry_num?: number;
  retry_reason?: string;
  ack(response: Record<string, unknown>): Promise<void>;
}
