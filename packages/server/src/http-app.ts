import type { IncomingHttpHeaders, IncomingMessage, ServerResponse } from "node:http";
import fastifyWebsocket from "@fastify/websocket";
import { ConnectErrorDetailCodes, PROTOCOL_VERSION } from "@gateway/protocol";
import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest, LogController } from "fastify";
import { rateLimitExempt, rateLimitKey, secretsEqual } from "./auth.js";
import type { ConnectionAcceptor } from "./connection-acceptor.js";
import { registerControlUi } from "./control-ui-routes.js";
import { hostRefusal, isAllowedHost, isAllowedOrigin, isLoopback, ORIGIN_REFUSAL_REASON } from "./front-door.js";
import type { ServerContext } from "./server-context.js";
import { adoptUpgradedSocket } from "./ws-adapter.js";

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

/** What the HTTP side needs besides the server context. */
export interface HttpAppParts {
  context: ServerContext;
  acceptor: ConnectionAcceptor;
  routes: readonly HttpRoute[];
}

/** Whether an HTTP request asks for a WebSocket upgrade. */
export function isUpgrade(request: IncomingMessage): boolean {
  return request.headers.upgrade?.toLowerCase() === "websocket";
}

/** Whether `Authorization: Bearer …` carries the gateway's token or password (always, with auth mode none). */
export function httpAuthorized(context: ServerContext, authorization: string | undefined): boolean {
  const { auth } = context.options();
  if (auth.mode === "none") return true;
  const secret = auth.mode === "token" ? auth.token! : auth.password!;
  const presented = authorization?.startsWith("Bearer ") ? authorization.slice(7) : undefined;
  return presented !== undefined && secretsEqual(presented, secret);
}

/**
 * Bearer auth for an HTTP request, through the same rate limiter as the WebSocket handshake: a client locked out
 * gets 429 with Retry-After before its token is compared; a wrong token counts against it (a local process without
 * a browser Origin is exempt, as on the WebSocket). Returns whether the request may go on; answered otherwise.
 */
function authorizeHttp(context: ServerContext, request: FastifyRequest, reply: FastifyReply, reason: string): boolean {
  const remote = clientAddress(request);
  const origin = request.headers.origin;
  const exempt = !hasForwardedHeaders(request.headers) && rateLimitExempt(remote, origin, isLoopback);
  const key = rateLimitKey(remote, origin);
  const locked = exempt ? 0 : context.rateLimiter.retryAfterMs(key);
  if (locked > 0) {
    context.metrics.authFailures.inc({ reason: "rate_limited" });
    reply
      .code(429)
      .header("retry-after", String(Math.ceil(locked / 1000)))
      .send({
        error: {
          message: `Too many failed attempts from ${remote}; try again in ${Math.ceil(locked / 1000)} s.`,
          type: "rate_limit_error",
          code: "rate_limited",
        },
      });
    return false;
  }
  if (httpAuthorized(context, request.headers.authorization)) {
    if (!exempt) context.rateLimiter.recordSuccess(key);
    return true;
  }
  context.metrics.authFailures.inc({ reason });
  if (!exempt) context.rateLimiter.recordFailure(key);
  reply.code(401).header("www-authenticate", 'Bearer realm="gateway"').send({ error: unauthorized });
  return false;
}

const unauthorized = {
  message: "Send the gateway token as `Authorization: Bearer <token>`.",
  type: "invalid_request_error",
  code: "unauthorized",
};

/**
 * The gateway's HTTP side on a fastify instance: the front door (Host on every request, Origin on every upgrade),
 * the WebSocket endpoint at `/`, the Control UI, the registered routes, `/healthz`, `/readyz` and `/metrics`. On the gateway's own
 * app the hooks cover every request (404s included); mounted in someone else's app they cover the gateway's routes.
 */
export function registerGatewayHttp(app: FastifyInstance, parts: HttpAppParts): void {
  const { context, acceptor } = parts;
  const { logger, metrics } = context;
  /** Upgrades whose Origin was refused: their socket is closed as soon as it opens. */
  const originRefused = new WeakSet<IncomingMessage>();
  const frontDoor = () => {
    const options = context.options();
    return { bindHost: options.host, allowedHosts: options.allowedHosts, allowedOrigins: options.allowedOrigins };
  };

  // Every HTTP request and WebSocket upgrade comes to a name the gateway answers to: a DNS-rebinding page is refused
  // (403) before any route or socket sees it. A browser upgrade from a foreign Origin is let through only to be
  // closed at once with 1008 and the reason (a browser can read a close reason, not a 403), before the gateway
  // sends anything on it.
  app.addHook("onRequest", (request, reply, done) => {
    const settings = frontDoor();
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
    const peer = request.socket.remoteAddress ?? "";
    if (hasForwardedHeaders(request.headers) && !isTrustedProxy(peer, context.options().trustedProxies)) {
      metrics.authFailures.inc({ reason: "forwarded" });
      logger.info({ remote: peer }, "request refused: forwarded headers from a peer that is not a trusted proxy");
      reply
        .code(403)
        .header("connection", "close")
        .send({
          error: {
            message: `forwarded headers from ${peer}, which is not in gateway.trustedProxies: add the proxy's address there, or stop sending them`,
            type: "forbidden",
            code: "forbidden",
          },
        });
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

  // The WebSocket plugin must be loaded before the route that uses it: both in one child context.
  app.register(async (scope) => {
    await scope.register(fastifyWebsocket, {
      options: { maxPayload: context.options().maxPayload, perMessageDeflate: false, clientTracking: false },
      errorHandler: (error, socket) => {
        logger.debug({ err: error }, "websocket error");
        socket.terminate();
      },
    });
    // The Control UI, when it lives at `/`, answers the plain GET of the WebSocket endpoint's URL.
    const startPage = registerControlUi(scope, context);
    scope.route({
      method: "GET",
      url: "/",
      handler: (request, reply) => {
        if (startPage) return startPage(request, reply);
        reply
          .type("text/plain; charset=utf-8")
          .send(
            `Gateway ${context.options().version} is running. Connect a WebSocket client to this URL (protocol ${PROTOCOL_VERSION}).\n`,
          );
      },
      wsHandler: (socket, request) => {
        const transport = adoptUpgradedSocket(socket, request.raw);
        socket.on("error", (error) => {
          logger.debug({ err: error }, "websocket error");
          socket.terminate();
        });
        if (originRefused.delete(request.raw)) {
          socket.close(1008, `${ConnectErrorDetailCodes.ORIGIN_NOT_ALLOWED}: ${ORIGIN_REFUSAL_REASON}`);
          return;
        }
        acceptor.accept(
          socket,
          transport,
          clientAddress(request),
          request.headers.origin,
          request.headers.host,
          hasForwardedHeaders(request.headers),
        );
      },
    });
    // Raw-body routes parse nothing: every content type arrives as a Buffer (1 MiB limit).
    scope.register(async (child) => {
      child.removeAllContentTypeParsers();
      child.addContentTypeParser("*", { parseAs: "buffer" }, (_request, payload, done) => done(null, payload));
      for (const route of parts.routes) if (route.rawBody) addRoute(child, context, route);
    });
    for (const route of parts.routes) if (!route.rawBody) addRoute(scope, context, route);
    scope.get("/healthz", (_request, reply) => {
      reply.send({ ok: true, uptimeMs: Date.now() - context.startedAt });
    });
    scope.get("/readyz", (_request, reply) => {
      const { ready, closing } = context.lifecycle;
      if (ready && !closing) reply.send({ ready: true });
      else reply.code(503).send({ ready: false, reason: closing ? "shutting down" : "starting" });
    });
    scope.get("/metrics", async (request, reply) => {
      if (!context.options().metricsPublic && !authorizeHttp(context, request, reply, "metrics")) return;
      reply.type("text/plain; version=0.0.4; charset=utf-8").send(await metrics.render());
    });
  });
}

/** What was wrong with a body the framework refused, in words an API client's user can act on. */
function bodyErrorMessage(status: number, message: string): string {
  if (status === 413) return "the request body is larger than 1 MiB";
  if (status === 415) return "send the body as JSON (content-type: application/json)";
  if (/empty/i.test(message)) return "the request body is empty: send a JSON object";
  if (/JSON|Unexpected|token/i.test(message))
    return `the request body is not valid JSON (${message.replace(/^.*?:\s*/, "")})`;
  return message;
}

/** One route: bearer auth unless it opts out, errors in the routes' own shape, the handler on the raw response. */
function addRoute(scope: FastifyInstance, context: ServerContext, route: HttpRoute): void {
  const { logger, metrics } = context;
  scope.route({
    method: route.method,
    url: route.url,
    // What fails before the handler (a body that is not JSON, over 1 MiB, of another type) is answered in the same
    // `{error: {message, type}}` shape the routes use, never fastify's own.
    errorHandler: (error, _request, reply) => {
      const status = (error as { statusCode?: number }).statusCode ?? 500;
      reply.code(status).send({
        error: {
          message: status >= 500 ? "the gateway failed; see its log" : bodyErrorMessage(status, error.message),
          type: status >= 500 ? "server_error" : "invalid_request_error",
          param: null,
          // fastify's own codes (FST_ERR_…) mean nothing to an API client.
          code: null,
        },
      });
    },
    handler: async (request, reply) => {
      if (route.auth !== false && !authorizeHttp(context, request, reply, "http")) return;
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

/** The gateway's own fastify app (HTTPS when TLS is configured), with the gateway's HTTP side registered. */
export function createHttpApp(parts: HttpAppParts): FastifyInstance {
  const options = parts.context.options();
  // Typed as a plain instance: the pino logger it is given is wider than fastify's base logger type.
  const app = Fastify({
    ...(options.tls ? { https: { cert: options.tls.cert, key: options.tls.key } } : {}),
    loggerInstance: parts.context.logger,
    // Every WebSocket upgrade is an HTTP request: logging each would flood the log.
    logController: new LogController({ disableRequestLogging: true }),
    bodyLimit: 1024 * 1024,
    forceCloseConnections: true,
  }) as unknown as FastifyInstance;
  // On the root: the front door's hooks also see requests no route matches (a 404'd upgrade is destroyed).
  registerGatewayHttp(app, parts);
  return app;
}

/**
 * The address of the client behind a request: the peer, or — when a trusted proxy forwarded it (the front door has
 * refused forwarded headers from anyone else) — the address that proxy appended last to X-Forwarded-For (or
 * X-Real-IP). Lockouts and pairing requests are then about the real client, not the proxy.
 */
export function clientAddress(request: {
  socket: { remoteAddress?: string };
  headers: Record<string, unknown>;
}): string {
  const peer = request.socket.remoteAddress ?? "unknown";
  const forwardedFor = request.headers["x-forwarded-for"];
  const last = (Array.isArray(forwardedFor) ? forwardedFor.join(",") : String(forwardedFor ?? ""))
    .split(",")
    .map((entry) => entry.trim())
    .filter(Boolean)
    .at(-1);
  const realIp = typeof request.headers["x-real-ip"] === "string" ? request.headers["x-real-ip"].trim() : undefined;
  return last ?? realIp ?? peer;
}

/** Whether a request came through a proxy that said so (it is then never treated as a local client). */
function hasForwardedHeaders(headers: Record<string, unknown>): boolean {
  return (
    headers.forwarded !== undefined || headers["x-forwarded-for"] !== undefined || headers["x-real-ip"] !== undefined
  );
}

/** Whether `peer` is one of the configured proxies (IPv4-mapped IPv6 addresses match their IPv4 form). */
function isTrustedProxy(peer: string, trusted: readonly string[]): boolean {
  const bare = peer.replace(/^::ffff:/, "");
  return trusted.some((address) => address === peer || address === bare);
}
