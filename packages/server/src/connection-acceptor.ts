import { randomBytes } from "node:crypto";
import type { Socket } from "node:net";
import {
  ConnectParams,
  describeIssues,
  EMITTED_EVENT_NAMES,
  ErrorCodes,
  type HelloOk,
  PROTOCOL_VERSION,
  parseFrame,
  validateStrict,
} from "@gateway/protocol";
import type { RawData, WebSocket } from "ws";
import { type ConnectContext, type ConnectGrant, ConnectRefusal, runConnectPipeline } from "./connect-pipeline.js";
import { type ConnectionIdentity, GatewayConnection } from "./connection.js";
import { ProtocolError } from "./errors.js";
import { showsPresence } from "./presence-publisher.js";
import type { RequestDispatcher } from "./request-dispatcher.js";
import type { ServerContext } from "./server-context.js";
import { setReceiverLimit } from "./ws-adapter.js";

const MAX_PENDING_FRAMES = 16;

function rawSize(data: RawData): number {
  if (Buffer.isBuffer(data)) return data.length;
  if (Array.isArray(data)) return data.reduce((total, part) => total + part.length, 0);
  return (data as ArrayBuffer).byteLength;
}

function rawText(data: RawData): string {
  if (Buffer.isBuffer(data)) return data.toString("utf8");
  if (Array.isArray(data)) return Buffer.concat(data).toString("utf8");
  return Buffer.from(data as ArrayBuffer).toString("utf8");
}

/**
 * New sockets → connected clients: the per-address cap, `connect.challenge`, the handshake deadline and the
 * pre-handshake frame limit, the connect pipeline (protocol, origin, rate limit, auth, device stages, the grant),
 * presence, and `hello-ok`. Frames a client sends while its handshake runs wait, in order, for the outcome.
 */
export class ConnectionAcceptor {
  #counter = 0;

  constructor(
    private readonly context: ServerContext,
    private readonly dispatcher: RequestDispatcher,
  ) {}

  /** Take a socket the HTTP app upgraded. */
  accept(
    socket: WebSocket,
    transport: Socket,
    remoteAddress: string,
    origin: string | undefined,
    host: string | undefined,
    forwarded = false,
  ): void {
    const { lifecycle, logger, connections } = this.context;
    const options = this.context.options();
    if (lifecycle.closing || lifecycle.restarting) {
      socket.close(1012, lifecycle.closing ? "gateway is shutting down" : "gateway is restarting");
      return;
    }
    if (connections.readyFrom(remoteAddress) >= options.maxConnectionsPerAddress) {
      logger.warn({ remote: remoteAddress }, "connection cap per address reached");
      socket.close(1008, `too many connections from ${remoteAddress}`);
      return;
    }
    // Sockets that have not completed their handshake have a small budget of their own, per address and in all: a
    // newcomer evicts the oldest waiting one, so silent sockets (a flood, a web page) never keep a real client out.
    if (connections.pendingFrom(remoteAddress) >= options.maxPendingPerAddress)
      this.#evict(connections.oldestPending(remoteAddress));
    if (connections.pendingTotal >= options.maxPendingTotal) this.#evict(connections.oldestPending());
    const id = `c-${(++this.#counter).toString(36)}-${randomBytes(3).toString("hex")}`;
    const connection = new GatewayConnection(id, socket, transport, remoteAddress, origin, host, forwarded);
    connections.add(connection);
    setReceiverLimit(socket, options.maxPreHandshakeBytes);
    connection.challengeNonce = randomBytes(16).toString("base64url");
    socket.send(
      JSON.stringify({
        type: "event",
        event: "connect.challenge",
        payload: { nonce: connection.challengeNonce, ts: Date.now() },
      }),
    );
    let handshakeTimer: NodeJS.Timeout | undefined = setTimeout(() => {
      if (connection.state === "handshake") connection.close(1008, "handshake timeout: send connect first");
    }, options.handshakeTimeoutMs);
    handshakeTimer.unref();
    const pending: string[] = [];
    let connecting = false;

    socket.on("message", (data: RawData, isBinary: boolean) => {
      if (connection.state === "closing") return;
      if (connection.state !== "handshake") {
        this.dispatcher.onFrame(connection, isBinary ? data : rawText(data), isBinary);
        return;
      }
      const limit = this.context.options().maxPreHandshakeBytes;
      if (rawSize(data) > limit) {
        connection.close(1009, `frame too large before the handshake (limit ${limit} bytes)`);
        return;
      }
      if (isBinary) {
        connection.close(1008, "binary frames are not accepted: send connect as JSON text");
        return;
      }
      const text = rawText(data);
      if (connecting) {
        if (pending.length >= MAX_PENDING_FRAMES) connection.close(1008, "too many frames before hello-ok");
        else pending.push(text);
        return;
      }
      connecting = true;
      void this.#handshake(connection, text).then((ok) => {
        clearTimeout(handshakeTimer);
        handshakeTimer = undefined; // an idle connection keeps nothing from its handshake
        if (ok) for (const frame of pending.splice(0)) this.dispatcher.onFrame(connection, frame, false);
      });
    });
    socket.on("close", () => {
      clearTimeout(handshakeTimer);
      connection.state = "closing";
      connections.remove(connection);
      if (!connection.identity) return;
      this.context.presenceReaders.removeReader(connection);
      if (connection.presenceKey) {
        this.context.presence.depart(connection.presenceKey);
        this.context.presenceChanged();
      }
      this.context.listeners.emit("disconnect", { id, remoteAddress, identity: connection.identity });
    });
  }

  /** Close a socket still waiting for its handshake to make room for a newer one. */
  #evict(connection: GatewayConnection | undefined): void {
    if (!connection) return;
    this.context.metrics.handshakeEvictions.inc();
    this.context.connections.remove(connection);
    connection.close(1008, "too many connections waiting for their handshake; send connect right after the challenge");
  }

  async #handshake(connection: GatewayConnection, text: string): Promise<boolean> {
    const parsed = parseFrame(text, { maxBytes: this.context.options().maxPreHandshakeBytes });
    if (!parsed.ok) {
      connection.close(1008, `invalid first frame: ${parsed.error.message}`);
      return false;
    }
    const frame = parsed.frame;
    if (frame.type !== "req" || frame.method !== "connect") {
      connection.close(1008, "the first frame must be a connect request");
      return false;
    }
    const refuse = (error: ProtocolError) => {
      this.dispatcher.respond(connection, frame.id, { ok: false, error });
      connection.close(1008, error.message);
      return false;
    };
    const validation = validateStrict(ConnectParams, frame.params ?? {});
    if (!validation.ok)
      return refuse(
        new ProtocolError(ErrorCodes.INVALID_REQUEST, `invalid connect params: ${describeIssues(validation.issues)}`),
      );
    let grant: ConnectGrant;
    try {
      grant = await this.#runPipeline(connection, validation.value);
    } catch (error) {
      if (error instanceof ConnectRefusal) {
        this.context.logger.info(
          { connId: connection.id, remote: connection.remoteAddress, code: error.detailCode },
          "connect refused",
        );
        const code = error.detailCode === "PAIRING_REQUIRED" ? ErrorCodes.NOT_PAIRED : ErrorCodes.INVALID_REQUEST;
        return refuse(
          new ProtocolError(code, error.message, {
            details: { code: error.detailCode, ...error.extra },
            ...(error.extra.retryAfterMs !== undefined
              ? { retryAfterMs: error.extra.retryAfterMs, retryable: true }
              : {}),
          }),
        );
      }
      // A stage that cannot decide now (a shared store out of reach) says so in words meant for the client.
      if (ProtocolError.isInstance(error)) return refuse(error);
      this.context.logger.error({ err: error, connId: connection.id }, "connect pipeline failed");
      return refuse(
        new ProtocolError(ErrorCodes.UNAVAILABLE, "The gateway could not complete the handshake; see its log."),
      );
    }
    if (connection.state === "closing") return false;
    if (this.context.connections.readyFrom(connection.remoteAddress) >= this.context.options().maxConnectionsPerAddress)
      return refuse(
        new ProtocolError(
          ErrorCodes.UNAVAILABLE,
          `too many connections from ${connection.remoteAddress} (gateway.limits.connectionsPerAddress)`,
          { retryable: true },
        ),
      );
    const { client } = validation.value;
    const identity: ConnectionIdentity = {
      role: grant.role,
      scopes: grant.scopes,
      client,
      ...(grant.deviceId !== undefined ? { deviceId: grant.deviceId } : {}),
    };
    connection.identity = identity;
    connection.state = "ready";
    connection.challengeNonce = "";
    this.context.connections.markReady(connection);
    setReceiverLimit(connection.socket, this.context.options().maxPayload);
    this.#enterPresence(connection, grant);
    this.dispatcher.respond(connection, frame.id, {
      ok: true,
      payload: this.#hello(connection, grant, validation.value.caps),
    });
    this.context.logger.debug(
      { connId: connection.id, remote: connection.remoteAddress, client: client.id },
      "connected",
    );
    this.context.listeners.emit("connection", {
      id: connection.id,
      remoteAddress: connection.remoteAddress,
      identity,
    });
    return true;
  }

  #runPipeline(connection: GatewayConnection, params: ConnectParams): Promise<ConnectGrant> {
    const options = this.context.options();
    const context: ConnectContext = {
      params,
      connectionId: connection.id,
      remoteAddress: connection.remoteAddress,
      origin: connection.origin,
      host: connection.host,
      challengeNonce: connection.challengeNonce,
      forwarded: connection.forwarded,
      authMode: options.auth.mode,
      authenticatedBy: undefined,
      deviceId: undefined,
      deviceToken: undefined,
      issuedAtMs: undefined,
      scopeLimit: undefined,
    };
    return runConnectPipeline(context, {
      auth: options.auth,
      bindHost: options.host,
      allowedOrigins: options.allowedOrigins,
      allowedHosts: options.allowedHosts,
      authNoneBrowserScopes: options.authNoneBrowserScopes,
      rateLimiter: this.context.rateLimiter,
      beforeAuthStages: options.connectStages.beforeAuth,
      afterAuthStages: options.connectStages.afterAuth,
      onAuthFailure: (reason) => this.context.metrics.authFailures.inc({ reason }),
    });
  }

  #enterPresence(connection: GatewayConnection, grant: ConnectGrant): void {
    if (showsPresence(connection)) this.context.presenceReaders.addReader(connection);
    const client = connection.identity!.client;
    // One-off CLI commands are not instances (as the reference): they would only churn the list.
    if (!client.instanceId || client.mode === "cli") return;
    connection.presenceKey = client.instanceId;
    this.context.presence.upsert(client.instanceId, {
      ip: connection.remoteAddress,
      version: client.version,
      platform: client.platform,
      ...(client.deviceFamily ? { deviceFamily: client.deviceFamily } : {}),
      ...(client.modelIdentifier ? { modelIdentifier: client.modelIdentifier } : {}),
      ...(client.displayName ? { host: client.displayName } : {}),
      mode: client.mode,
      reason: "connect",
      roles: [grant.role],
      scopes: grant.scopes,
      instanceId: client.instanceId,
      ...(grant.deviceId ? { deviceId: grant.deviceId } : {}),
    });
    this.context.presenceChanged();
  }

  #hello(connection: GatewayConnection, grant: ConnectGrant, caps: readonly string[] | undefined): HelloOk {
    const options = this.context.options();
    const surfaces = this.context.pluginSurfaces.urlsFor(
      { host: connection.host },
      grant.role === "node" ? (caps ?? []) : undefined,
    );
    return {
      type: "hello-ok",
      protocol: PROTOCOL_VERSION,
      server: { version: options.version, connId: connection.id },
      // No optional capabilities of the reference's are claimed: none of them is built here.
      features: { methods: this.context.registry.names(), events: [...EMITTED_EVENT_NAMES], capabilities: [] },
      snapshot: {
        // The list for clients that show it; the others get the gateway's own entry (system-presence has the rest).
        presence: this.context.presenceReaders.isReader(connection)
          ? this.context.presence.list()
          : this.context.presence.self(),
        health: this.context.health.snapshot,
        stateVersion: this.context.stateVersion(),
        uptimeMs: Date.now() - this.context.startedAt,
        authMode: options.auth.mode,
        ...(options.stateDir ? { stateDir: options.stateDir } : {}),
        ...(options.configPath ? { configPath: options.configPath } : {}),
        ...(this.context.sessionDefaults ? { sessionDefaults: this.context.sessionDefaults() } : {}),
      },
      ...(surfaces ? { pluginSurfaceUrls: surfaces } : {}),
      auth: {
        role: grant.role,
        scopes: grant.scopes,
        ...(grant.deviceToken ? { deviceToken: grant.deviceToken } : {}),
        ...(grant.issuedAtMs !== undefined ? { issuedAtMs: grant.issuedAtMs } : {}),
      },
      policy: {
        maxPayload: options.maxPayload,
        maxBufferedBytes: options.maxBufferedBytes,
        tickIntervalMs: options.tickIntervalMs,
      },
    };
  }
}
