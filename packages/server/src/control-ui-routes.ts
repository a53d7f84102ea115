import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import { hostnameOf, isAllowedOrigin, isLoopback, originRefusal } from "./front-door.js";
import type { ServerContext } from "./server-context.js";
import {
  loadStaticSite,
  NOT_BUILT_PAGE,
  OPENER_POLICY_HEADER,
  SITE_HEADERS,
  type SiteFile,
  type StaticSite,
} from "./static-site.js";

/** Answers a GET of the Control UI's start page. */
export type PageHandler = (request: FastifyRequest, reply: FastifyReply) => void;

/**
 * The Control UI's routes in the gateway's scope: the app at `basePath`, WebChat at `<basePath>chat`, the hashed
 * assets under `<basePath>assets/`. Host names are checked by the front door like every request; a request from a
 * foreign browser Origin (another site's fetch or script tag) is refused like a foreign WebSocket. Returns the
 * handler for the gateway's own `/` when the app lives there (that path is also the WebSocket endpoint).
 */
export function registerControlUi(scope: FastifyInstance, context: ServerContext): PageHandler | undefined {
  const options = context.options();
  if (!options.controlUi.enabled || options.controlUiRoot === undefined) return undefined;
  const base = options.controlUi.basePath;
  const site = loadStaticSite(options.controlUiRoot, { wsPath: `${scope.prefix}/` });
  if (!site) context.logger.warn(`the Control UI is not built (no index.html in ${options.controlUiRoot})`);

  const send = (request: FastifyRequest, reply: FastifyReply, file: SiteFile | undefined) => {
    const { origin, host } = request.headers;
    const current = context.options();
    const settings = {
      bindHost: current.host,
      allowedHosts: current.allowedHosts,
      allowedOrigins: current.allowedOrigins,
    };
    if (origin !== undefined && !isAllowedOrigin(origin, host, settings)) {
      reply.code(403).type("text/plain; charset=utf-8").send(originRefusal(origin));
      return;
    }
    reply.headers(SITE_HEADERS);
    // A page of an allowed origin (one that embeds <gateway-chat>) may load the files: CORS says so to its browser.
    if (
      origin !== undefined &&
      current.allowedOrigins.some((allowed) => allowed.toLowerCase() === origin.toLowerCase())
    )
      reply.headers({ "access-control-allow-origin": origin, "cross-origin-resource-policy": "cross-origin" });
    if (current.tls || isLoopback(hostnameOf(host ?? ""))) reply.headers(OPENER_POLICY_HEADER);
    if (!file) {
      if (!site)
        reply.code(503).type("text/html; charset=utf-8").header("cache-control", "no-store").send(NOT_BUILT_PAGE);
      else reply.code(404).type("text/plain; charset=utf-8").send("Not found\n");
      return;
    }
    reply
      .header("etag", file.etag)
      .header("vary", reply.getHeader("access-control-allow-origin") ? "origin, accept-encoding" : "accept-encoding")
      .header("cache-control", file.immutable ? "public, max-age=31536000, immutable" : "no-cache");
    if (request.headers["if-none-match"] === file.etag) {
      reply.code(304).send();
      return;
    }
    const gzip = file.gzip !== undefined && /\bgzip\b/.test(String(request.headers["accept-encoding"] ?? ""));
    if (gzip) reply.header("content-encoding", "gzip");
    reply.type(file.type).send(gzip ? file.gzip : file.body);
  };
  const page =
    (name: string): PageHandler =>
    (request, reply) =>
      send(request, reply, site?.page(name));

  scope.get(`${base}chat`, page("chat"));
  scope.get(`${base}assets/*`, (request, reply) =>
    send(request, reply, site?.asset((request.params as { "*": string })["*"])),
  );
  if (base === "/") return page("index");
  scope.get(base, page("index"));
  scope.get(base.slice(0, -1), (_request, reply) => {
    reply.redirect(`${scope.prefix}${base}`, 308);
  });
  return undefined;
}

export type { StaticSite };
