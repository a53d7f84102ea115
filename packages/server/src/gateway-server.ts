import { randomBytes, randomUUID } from "node:crypto";
import type { IncomingHttpHeaders, IncomingMessage, ServerResponse } from "node:http";
import type { Socket } from "node:net";
import { hostname } from "node:os";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import fastifyWebsocket from "@fastify/websocket";
import {
  ConnectErrorDetailCodes,
  ConnectParams,
  describeIssues,
  ErrorCodes,
  EVENT_NAMES,
  type EventName,
  type EventPayload,
  type GatewayFrame,
  type HealthSnapshot,
  type HelloOk,
  type MethodName,
  type MethodParams,
  type MethodResult,
  PROTOCOL_VERSION,
  parseFrame,
  type RequestFrame,
  type StateVersion,
  type SystemEventParams,
  validate,
} from "@gateway/protocol";
import type { Static, TSchema } from "@sinclair/typebox";
import Fastify, { type FastifyInstance, LogController } from "fastify";
import type { Logger } from "pino";
import type { RawData, WebSocket } from "ws";
import { AuthRateLimiter, secretsEqual } from "./auth.js";
import { Broadcaster, type BroadcastOptions } from "./broadcaster.js";
import { type ConnectContext, ConnectRefusal, runConnectPipeline } from "./connect-pipeline.js";
import { type ConnectionIdentity, GatewayConnection } from "./connection.js";
import { registerCoreMethods } from "./core-methods.js";
import { ProtocolError } from "./errors.js";
import { hostRefusal, isAllowedHost, isAllowedOrigin, ORIGIN_REFUSAL_REASON } from "./front-door.js";
import { type HealthContributor, HealthMonitor } from "./health.js";
import { IdempotencyCache } from "./idempotency.js";
import { createLogger } from "./logger.js";
import {
  type CoreMethodOptions,
  type CustomMethodOptions,
  type DispatchOutcome,
  isPromiseLike,
  type MethodContext,
  type MethodHandler,
  MethodRegistry,
} from "./method-registry.js";
import { GatewayMetrics } from "./metrics.js";
import { type GatewayServerOptions, type ResolvedOptions, resolveOptions } from "./options.js";
import { PresenceStore } from "./presence.js";

/** A long-lived part of the gateway (channels, agent, cron…) started after `listen()` and stopped by `close()`. */
export interface GatewayService {
  readonly name: string;
  start(): void | Promise<void>;
  stop(): void | Promise<void>;
}

/** An HTTP endpoint on the gateway's port (the OpenAI-compatible API, webhooks of channels). */
export interface HttpRoute {
  method: "GET" | "POST";
  url: string;
  /** Require the gateway token (or password) as `Authorization: Bearer …`. @default true */
  auth?: boolean;
  /** Pass the body as the bytes received (a Buffer; webhooks check signatures over them) instead of parsed JSON. */
  rawBody?: boolean;
  /** Answer on the raw response (streaming allowed); the JSON body is parsed (1 MiB limit) before, unless `rawBody`. */
  handler(request: HttpRouteRequest, response: ServerResponse): void | Promise<void>;
}

/** What a route handler gets of the request. */
export interface HttpRouteRequest {
  method: string;
  /** The URL's path, without the query (routes may use a wildcard such as `/channels/*`). */
  path: string;
  headers: IncomingHttpHeaders;
  body: unknown;
  remoteAddress: string;
  /** Aborted when the client goes away before the answer is complete. */
  signal: AbortSignal;
}

/** A line of text for the main session, queued by `system-event` (the agent runtime drains it). */
export interface SystemEvent {
  readonly text: string;
  readonly ts: number;
  readonly sessionKey?: string;
  readonly source: { connectionId: string; instanceId?: string };
}

/** Who connected or disconnected. */
export interface ConnectionInfo {
  readonly id: string;
  readonly remoteAddress: string;
  readonly identity: ConnectionIdentity;
}

/** Where the server listens. */
export interface ListenAddress {
  readonly host: string;
  readonly port: number;
  /** `ws://host:port`, or `wss://` with TLS */
  readonly url: string;
}

/** Options of `close()`. */
export interface CloseOptions {
  /** Sent to clients in the `shutdown` event. @default "gateway stopping" */
  reason?: string;
  /** Tells clients when to reconnect. */
  restartExpectedMs?: number;
}

/** The object `createGatewayServer` returns. */
export interface GatewayServer {
  /** Bind and start serving; resolves with the address (port 0 picks a free port). */
  listen(): Promise<ListenAddress>;
  /** Graceful shutdown: stop accepting, tell clients, finish in-flight requests, close sockets with 1012. Idempotent. */
  close(options?: CloseOptions): Promise<void>;
  /** Register a core method's handler (typed from the protocol's method table) or a custom method. */
  registerMethod<M extends MethodName>(
    name: M,
    handler: MethodHandler<MethodParams<M>, MethodResult<M>>,
    options?: CoreMethodOptions<M>,
  ): void;
  registerMethod<P extends TSchema>(
    name: string,
    handler: MethodHandler<Static<P>>,
    options: CustomMethodOptions<P>,
  ): void;
  /** Send an event to every connection in its audience (typed for the protocol's events). */
  broadcast<E extends EventName>(event: E, payload: EventPayload<E>, options?: BroadcastOptions): number;
  broadcast(event: string, payload: unknown, options?: BroadcastOptions): number;
  /** Add an HTTP endpoint; before `listen()` (routes are fixed once the listener is up). */
  registerHttpRoute(route: HttpRoute): void;
  /** Add a long-lived service; started after listen (in order), stopped on close (in reverse). */
  registerService(service: GatewayService): void;
  /** Add a section to the health snapshot. */
  contributeHealth(name: string, contributor: HealthContributor): void;
  /** Recompute health now and broadcast it (call when a contributed section changed). */
  refreshHealth(): HealthSnapshot;
  /** Add a source of "what is missing and how to add it" lines for `status` and `health`. */
  addWarnings(provider: () => string[]): void;
  /** Subscribe to connections, disconnections and system events. Each returns an unsubscribe function. */
  onConnection(listener: (connection: ConnectionInfo) => void): () => void;
  onDisconnect(listener: (connection: ConnectionInfo) => void): () => void;
  onSystemEvent(listener: (event: SystemEvent) => void): () => void;
  /** System events not yet taken by the agent runtime (bounded). */
  drainSystemEvents(): SystemEvent[];
  readonly logger: Logger;
  readonly metrics: GatewayMetrics;
  /** Connections that completed the handshake. */
  readonly connectionCount: number;
  readonly address: ListenAddress | undefined;
  readonly options: Readonly<ResolvedOptions>;
  /** Apply settings that change in place: auth secrets, allowed origins, timeouts, limits, logging level. */
  updateSettings(next: GatewayServerOptions): void;
  /**
   * Apply settings that need a new bind (host, port, auth mode): clients get `shutdown` with `restartExpectedMs` and
   * are closed with 1012, the listener rebinds in-process, services keep running. On a failed bind the old listener
   * comes back and the error is thrown.
   */
  restartListener(next: GatewayServerOptions, restartExpectedMs?: number): Promise<ListenAddress>;
}

const SYSTEM_EVENT_QUEUE_LIMIT = 100;
const PRESENCE_BROADCAST_DELAY_MS = 250;
const MAX_PENDING_FRAMES = 16;

/** Create a gateway server. Nothing is bound until `listen()`; two servers can run in one process. */
export function createGatewayServer(input: GatewayServerOptions = {}): GatewayServer {
  let options = resolveOptions(input);
  let currentInput: GatewayServerOptions = input;
  const logFile =
    input.logging?.file === false
      ? undefined
      : (input.logging?.file ?? (options.stateDir ? join(options.stateDir, "logs", "gateway.log") : undefined));
  const ownedLogger = input.logger
    ? undefined
    : createLogger({
        level: input.logging?.level ?? "info",
        file: logFile ?? false,
        ...(input.logging?.pretty !== undefined ? { pretty: input.logging.pretty } : {}),
        ...(input.logging?.json !== undefined ? { json: input.logging.json } : {}),
        ...(input.logging?.stdout !== undefined ? { stdout: input.logging.stdout } : {}),
      });
  const logger = input.logger ?? ownedLogger!.logger;
  const bootId = randomUUID();
  const selfPresenceKey = `gateway-${bootId}`;
  const startedAt = Date.now();

  const connections = new Map<string, GatewayConnection>();
  const perAddress = new Map<string, number>();
  const serverInFlight = new Set<Promise<unknown>>();
  const shutdownController = new AbortController();
  const services: GatewayService[] = [];
  const startedServices: GatewayService[] = [];
  const warningProviders: Array<() => string[]> = [];
  const systemEvents: SystemEvent[] = [];
  const listeners = {
    connection: new Set<(info: ConnectionInfo) => void>(),
    disconnect: new Set<(info: ConnectionInfo) => void>(),
    systemEvent: new Set<(event: SystemEvent) => void>(),
  };
  let readyConnections = 0;
  const readyByRole = { operator: 0, node: 0 };
  let address: ListenAddress | undefined;
  let closing = false;
  let closePromise: Promise<void> | undefined;
  let ready = false;
  let connectionCounter = 0;
  const timers: NodeJS.Timeout[] = [];
  let presenceTimer: NodeJS.Timeout | undefined;

  const metrics = new GatewayMetrics(() => readyConnections);
  const idempotency = new IdempotencyCache(options.idempotencyTtlMs, options.idempotencyMaxEntries);
  const registry = new MethodRegistry(idempotency, options.requestTimeoutMs);
  const presence = new PresenceStore(options.presenceTtlMs, selfPresenceKey);
  const health = new HealthMonitor();
  const rateLimiter = new AuthRateLimiter(options.authMaxFailures, options.authWindowMs, options.authLockoutMs);

  const stateVersion = (): StateVersion => ({ presence: presence.version, health: health.version });
  const warnings = (): string[] => {
    const lines: string[] = [];
    if (options.auth.mode === "none")
      lines.push("auth is off (allowed on loopback only): set gateway.auth.mode to token");
    for (const provider of warningProviders) lines.push(...provider());
    return lines;
  };
  const connectionCounts = () => ({
    total: readyConnections,
    operators: readyByRole.operator,
    nodes: readyByRole.node,
  });

  const closeSlowConsumer = (connection: GatewayConnection) => {
    if (connection.state === "closing") return;
    metrics.slowConsumerCloses.inc();
    logger.warn(
      { connId: connection.id, remote: connection.remoteAddress, bufferedBytes: connection.bufferedBytes },
      "closing slow consumer",
    );
    connection.close(1008, "slow consumer", 500);
  };
  const broadcaster = new Broadcaster(connections, options, metrics, closeSlowConsumer);

  const broadcastPresenceSoon = () => {
    if (presenceTimer || closing) return;
    presenceTimer = setTimeout(() => {
      presenceTimer = undefined;
      broadcaster.broadcast("presence", { presence: presence.list() }, { stateVersion: stateVersion() });
    }, PRESENCE_BROADCAST_DELAY_MS);
    presenceTimer.unref();
  };
  const refreshHealth = (): HealthSnapshot => {
    const snapshot = health.refresh();
    if (address) broadcaster.broadcast("health", snapshot, { stateVersion: stateVersion() });
    return snapshot;
  };

  // ---- the HTTP side --------------------------------------------------------------------------------------------
  const httpAuthorized = (authorization: string | undefined): boolean => {
    if (options.auth.mode === "none") return true;
    const secret = options.auth.mode === "token" ? options.auth.token! : options.auth.password!;
    const presented = authorization?.startsWith("Bearer ") ? authorization.slice(7) : undefined;
    return presented !== undefined && secretsEqual(presented, secret);
  };

  /** One HTTP route: bearer auth unless it opts out, errors in the routes' own shape, the handler on the raw response. */
  function addRoute(scope: FastifyInstance, route: HttpRoute): void {
    scope.route({
      method: route.method,
      url: route.url,
      // What fails before the handler (a body that is not JSON, over 1 MiB, of another type) is answered in
      // the same `{error: {message, type}}` shape the routes use, never fastify's own.
      errorHandler: (error, _request, reply) => {
        const status = (error as { statusCode?: number }).statusCode ?? 500;
        reply.code(status).send({
          error: {
            message: status >= 500 ? "the gateway failed; see its log" : error.message,
            type: status >= 500 ? "server_error" : "invalid_request_error",
            code: (error as { code?: string }).code ?? null,
          },
        });
      },
      handler: async (request, reply) => {
        if (route.auth !== false && !httpAuthorized(request.headers.authorization)) {
          metrics.authFailures.inc({ reason: "http" });
          reply
            .code(401)
            .header("www-authenticate", 'Bearer realm="gateway"')
            .send({
              error: {
                message: "Send the gateway token as `Authorization: Bearer <token>`.",
                type: "invalid_request_error",
                code: "unauthorized",
              },
            });
          return;
        }
        reply.hijack();
        const controller = new AbortController();
        reply.raw.on("close", () => {
          if (!reply.raw.writableFinished) controller.abort();
        });
        try {
          await route.handler(
            {
              method: request.method,
              path: request.url.split("?")[0] ?? request.url,
              headers: request.headers,
              body: request.body,
              remoteAddress: request.socket.remoteAddress ?? "unknown",
              signal: controller.signal,
            },
            reply.raw,
          );
        } catch (error) {
          logger.error({ err: error, url: route.url }, "http route failed");
          if (!reply.raw.headersSent)
            reply.raw
              .writeHead(500, { "content-type": "application/json" })
              .end(JSON.stringify({ error: { message: "the gateway failed; see its log", type: "server_error" } }));
          else reply.raw.end();
        }
      },
    });
  }

  /** Upgrades whose Origin was refused: their socket is closed as soon as it opens. */
  const originRefused = new WeakSet<IncomingMessage>();

  /** The HTTP + WebSocket listener. Recreated when a config change needs a new bind (see restartListener). */
  function createHttpApp() {
    const app = Fastify({
      ...(options.tls ? { https: { cert: options.tls.cert, key: options.tls.key } } : {}),
      loggerInstance: logger,
      // Every WebSocket upgrade is an HTTP request: logging each would flood the log.
      logController: new LogController({ disableRequestLogging: true }),
      bodyLimit: 1024 * 1024,
      forceCloseConnections: true,
    });

    // Every HTTP request and WebSocket upgrade comes to a name the gateway answers to: a DNS-rebinding page is
    // refused (403) before any route or socket sees it. A browser upgrade from a foreign Origin is let through only
    // to be closed at once with 1008 and the reason (a browser can read a close reason, not a 403), before the
    // gateway sends anything on it.
    app.addHook("onRequest", (request, reply, done) => {
      const settings = {
        bindHost: options.host,
        allowedHosts: options.allowedHosts,
        allowedOrigins: options.allowedOrigins,
      };
      const { host, origin } = request.headers;
      if (!isAllowedHost(host, settings)) {
        metrics.authFailures.inc({ reason: "host" });
        logger.info({ remote: request.socket.remoteAddress, host, origin }, "request refused: unknown Host");
        reply
          .code(403)
          .header("connection", "close")
          .send({ error: { message: hostRefusal(host ?? ""), type: "forbidden", code: "forbidden" } });
        return;
      }
      if (isUpgrade(request.raw) && !isAllowedOrigin(origin, host, settings)) {
        metrics.authFailures.inc({ reason: "origin" });
        logger.info({ remote: request.socket.remoteAddress, origin }, "websocket refused: Origin not allowed");
        originRefused.add(request.raw);
      }
      done();
    });
    // An upgrade answered with HTTP (refused, or no WebSocket route at that path) is over: destroy its socket, or a
    // client holding it open would keep shutdown and rebinds waiting.
    app.addHook("onResponse", (request, _reply, done) => {
      if (isUpgrade(request.raw)) request.raw.socket.destroy();
      done();
    });

    app.register(async (scope) => {
      await scope.register(fastifyWebsocket, {
        options: { maxPayload: options.maxPayload, perMessageDeflate: false, clientTracking: false },
        errorHandler: (error, socket) => {
          logger.debug({ err: error }, "websocket error");
          socket.terminate();
        },
      });
      scope.route({
        method: "GET",
        url: "/",
        handler: (_request, reply) => {
          reply
            .type("text/plain; charset=utf-8")
            .send(
              `Gateway ${options.version} is running. Connect a WebSocket client to this URL (protocol ${PROTOCOL_VERSION}).\n`,
            );
        },
        wsHandler: (socket, request) => {
          // @fastify/websocket's own error listener closes over fastify's request and reply objects, keeping them
          // alive as long as the socket: several KB per idle connection. Ours keeps nothing.
          socket.removeAllListeners("error");
          // The HTTP response of the upgrade stays attached to the TCP socket and, through its listeners, fastify's
          // request, reply and child logger: detach it so an idle connection holds only the WebSocket.
          const upgradeResponse = (request.socket as Socket & { _httpMessage?: ServerResponse | null })._httpMessage;
          upgradeResponse?.detachSocket(request.socket);
          socket.on("error", (error) => {
            logger.debug({ err: error }, "websocket error");
            socket.terminate();
          });
          if (originRefused.delete(request.raw)) {
            socket.close(1008, `${ConnectErrorDetailCodes.ORIGIN_NOT_ALLOWED}: ${ORIGIN_REFUSAL_REASON}`);
            return;
          }
          acceptSocket(
            socket,
            request.socket,
            request.socket.remoteAddress ?? "unknown",
            request.headers.origin,
            request.headers.host,
          );
        },
      });
      // Raw-body routes parse nothing: every content type arrives as a Buffer (1 MiB limit).
      scope.register(async (child) => {
        child.removeAllContentTypeParsers();
        child.addContentTypeParser("*", { parseAs: "buffer" }, (_request, payload, done) => done(null, payload));
        for (const route of httpRoutes) if (route.rawBody) addRoute(child, route);
      });
      for (const route of httpRoutes) if (!route.rawBody) addRoute(scope, route);
      scope.get("/healthz", (_request, reply) => {
        reply.send({ ok: true, uptimeMs: Date.now() - startedAt });
      });
      scope.get("/readyz", (_request, reply) => {
        if (ready && !closing) reply.send({ ready: true });
        else reply.code(503).send({ ready: false, reason: closing ? "shutting down" : "starting" });
      });
      scope.get("/metrics", async (request, reply) => {
        if (!options.metricsPublic && !httpAuthorized(request.headers.authorization)) {
          metrics.authFailures.inc({ reason: "metrics" });
          reply
            .code(401)
            .header("www-authenticate", 'Bearer realm="gateway"')
            .send({ error: "unauthorized", message: "Send the gateway token as `Authorization: Bearer <token>`." });
          return;
        }
        reply.type("text/plain; version=0.0.4; charset=utf-8").send(await metrics.render());
      });
    });
    return app;
  }
  const httpRoutes: HttpRoute[] = [];
  let app = createHttpApp();
  let restarting = false;

  // ---- connections ----------------------------------------------------------------------------------------------
  function acceptSocket(
    socket: WebSocket,
    transport: Socket,
    remoteAddress: string,
    origin: string | undefined,
    host: string | undefined,
  ) {
    if (closing || restarting) {
      socket.close(1012, closing ? "gateway is shutting down" : "gateway is restarting");
      return;
    }
    const count = (perAddress.get(remoteAddress) ?? 0) + 1;
    if (count > options.maxConnectionsPerAddress) {
      logger.warn({ remote: remoteAddress }, "connection cap per address reached");
      socket.close(1008, `too many connections from ${remoteAddress}`);
      return;
    }
    perAddress.set(remoteAddress, count);
    const id = `c-${(++connectionCounter).toString(36)}-${randomBytes(3).toString("hex")}`;
    const connection = new GatewayConnection(id, socket, transport, remoteAddress, origin, host);
    connections.set(id, connection);
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
      if (connection.state === "handshake") {
        const size = rawSize(data);
        if (size > options.maxPreHandshakeBytes) {
          connection.close(1009, `frame too large before the handshake (limit ${options.maxPreHandshakeBytes} bytes)`);
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
        void handshake(connection, text).then((ok) => {
          clearTimeout(handshakeTimer);
          handshakeTimer = undefined; // an idle connection keeps nothing from its handshake
          if (ok) for (const frame of pending.splice(0)) onReadyFrame(connection, frame, false);
        });
        return;
      }
      onReadyFrame(connection, isBinary ? data : rawText(data), isBinary);
    });
    socket.on("close", () => {
      clearTimeout(handshakeTimer);
      connection.state = "closing";
      connections.delete(id);
      const remaining = (perAddress.get(remoteAddress) ?? 1) - 1;
      if (remaining <= 0) perAddress.delete(remoteAddress);
      else perAddress.set(remoteAddress, remaining);
      if (connection.identity) {
        readyConnections--;
        readyByRole[connection.identity.role]--;
        if (connection.presenceKey) {
          presence.upsert(connection.presenceKey, { reason: "disconnect" });
          broadcastPresenceSoon();
        }
        const info: ConnectionInfo = { id, remoteAddress, identity: connection.identity };
        for (const listener of listeners.disconnect) listener(info);
      }
    });
  }

  async function handshake(connection: GatewayConnection, text: string): Promise<boolean> {
    const parsed = parseFrame(text, { maxBytes: options.maxPreHandshakeBytes });
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
      sendResponse(connection, frame.id, { ok: false, error });
      connection.close(1008, error.message);
      return false;
    };
    const validation = validate(ConnectParams, frame.params ?? {});
    if (!validation.ok) {
      return refuse(
        new ProtocolError(ErrorCodes.INVALID_REQUEST, `invalid connect params: ${describeIssues(validation.issues)}`),
      );
    }
    const context: ConnectContext = {
      params: validation.value,
      connectionId: connection.id,
      remoteAddress: connection.remoteAddress,
      origin: connection.origin,
      host: connection.host,
      challengeNonce: connection.challengeNonce,
      authMode: options.auth.mode,
      authenticatedBy: undefined,
      deviceId: undefined,
      deviceToken: undefined,
      issuedAtMs: undefined,
    };
    let grant: Awaited<ReturnType<typeof runConnectPipeline>>;
    try {
      grant = await runConnectPipeline(context, {
        auth: options.auth,
        bindHost: options.host,
        allowedOrigins: options.allowedOrigins,
        allowedHosts: options.allowedHosts,
        authNoneBrowserScopes: options.authNoneBrowserScopes,
        rateLimiter,
        beforeAuthStages: options.connectStages.beforeAuth,
        afterAuthStages: options.connectStages.afterAuth,
        onAuthFailure: (reason) => metrics.authFailures.inc({ reason }),
      });
    } catch (error) {
      if (error instanceof ConnectRefusal) {
        logger.info(
          { connId: connection.id, remote: connection.remoteAddress, code: error.detailCode },
          "connect refused",
        );
        const details = { code: error.detailCode, ...error.extra };
        const code = error.detailCode === "PAIRING_REQUIRED" ? ErrorCodes.NOT_PAIRED : ErrorCodes.INVALID_REQUEST;
        return refuse(
          new ProtocolError(code, error.message, {
            details,
            ...(error.extra.retryAfterMs !== undefined
              ? { retryAfterMs: error.extra.retryAfterMs, retryable: true }
              : {}),
          }),
        );
      }
      logger.error({ err: error, connId: connection.id }, "connect pipeline failed");
      return refuse(
        new ProtocolError(ErrorCodes.UNAVAILABLE, "The gateway could not complete the handshake; see its log."),
      );
    }
    if (connection.state === "closing") return false;
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
    readyConnections++;
    readyByRole[identity.role]++;
    setReceiverLimit(connection.socket, options.maxPayload);
    if (client.instanceId) {
      connection.presenceKey = client.instanceId;
      presence.upsert(client.instanceId, {
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
      broadcastPresenceSoon();
    }
    const hello: HelloOk = {
      type: "hello-ok",
      protocol: PROTOCOL_VERSION,
      server: { version: options.version, connId: connection.id },
      features: { methods: registry.names(), events: [...EVENT_NAMES] },
      snapshot: {
        presence: presence.list(),
        health: health.snapshot,
        stateVersion: stateVersion(),
        uptimeMs: Date.now() - startedAt,
        authMode: options.auth.mode,
        ...(options.stateDir ? { stateDir: options.stateDir } : {}),
        ...(options.configPath ? { configPath: options.configPath } : {}),
      },
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
    sendResponse(connection, frame.id, { ok: true, payload: hello });
    logger.debug({ connId: connection.id, remote: connection.remoteAddress, client: client.id }, "connected");
    const info: ConnectionInfo = { id: connection.id, remoteAddress: connection.remoteAddress, identity };
    for (const listener of listeners.connection) listener(info);
    return true;
  }

  function onReadyFrame(connection: GatewayConnection, data: string | RawData, isBinary: boolean) {
    const parsed = parseFrame(isBinary ? data : (data as string), { maxBytes: options.maxPayload });
    if (!parsed.ok) {
      // Answer the request when its id is readable (the JSON parsed but the frame was wrong); otherwise close.
      const readable = parsed.error.code === "INVALID_FRAME" || parsed.error.code === "FORBIDDEN_KEY";
      const id = readable ? recoverRequestId(data as string) : undefined;
      if (id !== undefined) {
        sendResponse(connection, id, {
          ok: false,
          error: new ProtocolError(ErrorCodes.INVALID_REQUEST, `invalid frame: ${parsed.error.message}`),
        });
      } else {
        connection.close(1008, `invalid frame: ${parsed.error.message}`);
      }
      return;
    }
    const frame: GatewayFrame = parsed.frame;
    if (frame.type !== "req") {
      logger.debug({ connId: connection.id, type: frame.type }, "ignoring a non-request frame from a client");
      return;
    }
    handleRequest(connection, frame);
  }

  function handleRequest(connection: GatewayConnection, frame: RequestFrame) {
    if (frame.method === "connect") {
      sendResponse(connection, frame.id, {
        ok: false,
        error: new ProtocolError(
          ErrorCodes.INVALID_REQUEST,
          "already connected: connect is only valid as the first frame",
        ),
      });
      return;
    }
    if (closing) {
      sendResponse(connection, frame.id, {
        ok: false,
        error: new ProtocolError(ErrorCodes.UNAVAILABLE, "the gateway is shutting down; reconnect shortly", {
          retryable: true,
        }),
      });
      return;
    }
    const started = performance.now();
    const identity = connection.identity!;
    const context: Omit<MethodContext, "signal"> = {
      connectionId: connection.id,
      identity,
      remoteAddress: connection.remoteAddress,
      requestId: frame.id,
      logger,
      accept: (payload) => sendResponse(connection, frame.id, { ok: true, payload }),
    };
    const finish = (outcome: DispatchOutcome) => {
      sendResponse(connection, frame.id, outcome);
      const method = registry.has(frame.method) ? frame.method : "unknown";
      metrics.countRequest(method, outcome.ok ? "ok" : outcome.error.code, (performance.now() - started) / 1000);
    };
    const outcome = registry.dispatch(frame.method, frame.params, context, shutdownController.signal);
    if (!isPromiseLike(outcome)) {
      finish(outcome);
      return;
    }
    // Asynchronous handlers are tracked so that shutdown can let them finish.
    const promise = Promise.resolve(outcome).then(finish);
    serverInFlight.add(promise);
    void promise.finally(() => {
      serverInFlight.delete(promise);
    });
  }

  function sendResponse(
    connection: GatewayConnection,
    id: string,
    outcome: { ok: true; payload: unknown } | { ok: false; error: ProtocolError },
  ) {
    const frame = outcome.ok
      ? outcome.payload === undefined
        ? { type: "res", id, ok: true }
        : { type: "res", id, ok: true, payload: outcome.payload }
      : { type: "res", id, ok: false, error: outcome.error.toShape() };
    connection.sendText(JSON.stringify(frame));
    if (connection.bufferedBytes > options.maxBufferedBytes) closeSlowConsumer(connection);
  }

  // ---- core methods ---------------------------------------------------------------------------------------------
  const server: GatewayServer = {
    listen,
    close,
    updateSettings,
    restartListener,
    registerMethod: ((name: string, handler: MethodHandler<never>, methodOptions?: never) =>
      registry.register(
        name as MethodName,
        handler as never,
        methodOptions,
      )) as unknown as GatewayServer["registerMethod"],
    broadcast: ((event: string, payload: unknown, broadcastOptions?: BroadcastOptions) =>
      broadcaster.broadcast(event, payload, broadcastOptions)) as GatewayServer["broadcast"],
    registerHttpRoute(route) {
      if (address) throw new Error(`registerHttpRoute(${route.url}) after listen(): register routes before`);
      httpRoutes.push(route);
    },
    registerService(service) {
      services.push(service);
      if (ready && !closing) {
        void Promise.resolve(service.start()).then(
          () => startedServices.push(service),
          (error: unknown) => logger.error({ err: error, service: service.name }, "service failed to start"),
        );
      }
    },
    contributeHealth: (name, contributor) => health.contribute(name, contributor),
    refreshHealth,
    addWarnings: (provider) => {
      warningProviders.push(provider);
    },
    onConnection: (listener) => subscribe(listeners.connection, listener),
    onDisconnect: (listener) => subscribe(listeners.disconnect, listener),
    onSystemEvent: (listener) => subscribe(listeners.systemEvent, listener),
    drainSystemEvents: () => systemEvents.splice(0),
    logger,
    metrics,
    get connectionCount() {
      return readyConnections;
    },
    get address() {
      return address;
    },
    get options() {
      return options;
    },
  };

  registerCoreMethods(server, {
    health: () => ({
      ...health.snapshot,
      gateway: health.processHealth(options.version, startedAt, connectionCounts(), warnings()),
    }),
    status: () => ({
      ts: Date.now(),
      version: options.version,
      uptimeMs: Date.now() - startedAt,
      startedAtMs: startedAt,
      authMode: options.auth.mode,
      listen: { host: address?.host ?? options.host, port: address?.port ?? options.port },
      connections: connectionCounts(),
      ...(options.stateDir ? { stateDir: options.stateDir } : {}),
      ...(options.configPath ? { configPath: options.configPath } : {}),
      methods: registry.names().length,
      warnings: warnings(),
    }),
    presence: () => presence.list(),
    systemEvent: (params: SystemEventParams, context: MethodContext) => {
      const connection = connections.get(context.connectionId);
      const key = params.instanceId ?? connection?.presenceKey ?? context.connectionId;
      presence.upsert(key, {
        text: params.text,
        ...(params.host ? { host: params.host } : {}),
        ip: params.ip ?? context.remoteAddress,
        ...(params.mode ? { mode: params.mode } : {}),
        ...(params.version ? { version: params.version } : {}),
        ...(params.platform ? { platform: params.platform } : {}),
        ...(params.deviceFamily ? { deviceFamily: params.deviceFamily } : {}),
        ...(params.tags ? { tags: params.tags } : {}),
        reason: params.reason ?? "system-event",
        instanceId: key,
      });
      broadcastPresenceSoon();
      const event: SystemEvent = {
        text: params.text,
        ts: Date.now(),
        ...(params.sessionKey ? { sessionKey: params.sessionKey } : {}),
        source: { connectionId: context.connectionId, instanceId: key },
      };
      systemEvents.push(event);
      if (systemEvents.length > SYSTEM_EVENT_QUEUE_LIMIT) systemEvents.shift();
      for (const listener of listeners.systemEvent) listener(event);
    },
    logFile,
  });

  // ---- lifecycle ------------------------------------------------------------------------------------------------
  async function bindListener(): Promise<ListenAddress> {
    try {
      await app.listen({ host: options.host, port: options.port });
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code === "EADDRINUSE") {
        throw new Error(
          `port ${options.port} on ${options.host} is already in use: stop the other gateway (gateway status) or pick another port with --port`,
          { cause: error },
        );
      }
      throw error;
    }
    const bound = app.server.address();
    const port = typeof bound === "object" && bound ? bound.port : options.port;
    const host = options.host.includes(":") ? `[${options.host}]` : options.host;
    address = { host: options.host, port, url: `${options.tls ? "wss" : "ws"}://${host}:${port}` };
    return address;
  }

  async function listen(): Promise<ListenAddress> {
    if (address) return address;
    if (closing) throw new Error("this gateway server was closed; create a new one");
    const bound = await bindListener();
    presence.upsert(selfPresenceKey, {
      host: hostname(),
      version: options.version,
      platform: process.platform,
      mode: "gateway",
      reason: "self",
      instanceId: selfPresenceKey,
    });
    health.refresh();
    timers.push(
      setInterval(() => broadcaster.broadcast("tick", { ts: Date.now() }), options.tickIntervalMs),
      setInterval(refreshHealth, options.healthIntervalMs),
      setInterval(
        () => {
          presence.upsert(selfPresenceKey, { reason: "self" });
          if (presence.sweep()) broadcastPresenceSoon();
        },
        Math.max(10, Math.min(60_000, Math.floor(options.presenceTtlMs / 2))),
      ),
    );
    for (const timer of timers) timer.unref();
    for (const service of services) {
      await service.start();
      startedServices.push(service);
    }
    ready = true;
    logger.info({ url: bound.url, version: options.version, authMode: options.auth.mode }, "gateway listening");
    return bound;
  }

  /** Tell every client we are going, let in-flight requests finish (bounded), then close every socket with 1012. */
  async function drainConnections(reason: string, restartExpectedMs: number | undefined): Promise<void> {
    broadcaster.broadcast("shutdown", { reason, ...(restartExpectedMs !== undefined ? { restartExpectedMs } : {}) });
    if (serverInFlight.size > 0) {
      let timer: NodeJS.Timeout | undefined;
      const deadline = new Promise<void>((resolve) => {
        timer = setTimeout(resolve, options.shutdownTimeoutMs);
      });
      await Promise.race([Promise.allSettled([...serverInFlight]), deadline]);
      clearTimeout(timer);
    }
  }

  async function closeConnections(reason: string): Promise<void> {
    const closed = [...connections.values()].map(
      (connection) =>
        new Promise<void>((resolve) => {
          if (connection.socket.readyState === 3) return resolve();
          connection.socket.once("close", () => resolve());
          connection.close(1012, reason, 1000);
        }),
    );
    await Promise.all(closed);
  }

  function updateSettings(next: GatewayServerOptions): void {
    const merged = { ...currentInput, ...next };
    const resolved = resolveOptions(merged);
    const needsRestart =
      resolved.host !== options.host || resolved.port !== options.port || resolved.auth.mode !== options.auth.mode;
    if (needsRestart) throw new Error("host, port and auth mode change only with restartListener()");
    currentInput = merged;
    options = resolved;
    if (next.logging?.level) logger.level = next.logging.level;
  }

  async function restartListener(next: GatewayServerOptions, restartExpectedMs = 1_000): Promise<ListenAddress> {
    if (!address || closing) throw new Error("restartListener needs a listening, open server");
    const merged = { ...currentInput, ...next };
    const resolved = resolveOptions(merged); // refuse invalid settings before anything is torn down
    const previous = options;
    restarting = true;
    ready = false;
    try {
      logger.info({ from: address.url, host: resolved.host, port: resolved.port }, "restarting the listener");
      await drainConnections("restarting to apply a config change", restartExpectedMs);
      await closeConnections("restarting to apply a config change");
      await app.close();
      options = resolved;
      app = createHttpApp();
      try {
        await bindListener();
        currentInput = merged;
      } catch (error) {
        // The new bind failed (port taken…): come back on the old one and report why.
        options = previous;
        app = createHttpApp();
        await bindListener();
        throw error;
      }
      if (next.logging?.level) logger.level = next.logging.level;
      const rebound = address as ListenAddress;
      logger.info({ url: rebound.url }, "listener restarted");
      return rebound;
    } finally {
      restarting = false;
      ready = !closing;
    }
  }

  function close(closeOptions: CloseOptions = {}): Promise<void> {
    closePromise ??= (async () => {
      closing = true;
      ready = false;
      const reason = closeOptions.reason ?? "gateway stopping";
      logger.info({ reason }, "gateway shutting down");
      await drainConnections(reason, closeOptions.restartExpectedMs);
      shutdownController.abort(new Error("gateway shutting down"));
      for (const timer of timers) clearInterval(timer);
      if (presenceTimer) clearTimeout(presenceTimer);
      await closeConnections(reason);
      for (const service of startedServices.splice(0).reverse()) {
        try {
          await service.stop();
        } catch (error) {
          logger.error({ err: error, service: service.name }, "service failed to stop");
        }
      }
      health.close();
      await app.close();
      logger.info("gateway stopped");
      await new Promise<void>((resolve) => logger.flush(() => resolve()));
      ownedLogger?.close();
    })();
    return closePromise;
  }

  return server;
}

function subscribe<T>(set: Set<T>, listener: T): () => void {
  set.add(listener);
  return () => set.delete(listener);
}

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

/** The `id` of a request frame that failed validation, when it can be read, so the error can answer it. */
function recoverRequestId(text: string): string | undefined {
  try {
    const value = JSON.parse(text) as { id?: unknown };
    return typeof value?.id === "string" && value.id.length > 0 && value.id.length <= 256 ? value.id : undefined;
  } catch {
    return undefined;
  }
}

/** Whether an HTTP request asks for a WebSocket upgrade. */
function isUpgrade(request: IncomingMessage): boolean {
  return request.headers.upgrade?.toLowerCase() === "websocket";
}

/** ws keeps the payload limit on the receiver; lower it before the handshake so no one can make us buffer more. */
function setReceiverLimit(socket: WebSocket, maxPayload: number): void {
  const receiver = (socket as unknown as { _receiver?: { _maxPayload?: number } })._receiver;
  if (receiver && typeof receiver._maxPayload === "number") receiver._maxPayload = maxPayload;
}
