import { createReadStream } from "node:fs";
import { mkdir, readFile } from "node:fs/promises";
import fastifyWebsocket from "@fastify/websocket";
import { type FrontDoorSettings, hostRefusal, isAllowedHost, isAllowedOrigin, originRefusal } from "@gateway/server";
import Fastify, { type FastifyInstance, type FastifyReply } from "fastify";
import type { Logger } from "pino";
import { DEFAULT_CANVAS_PORT, DEFAULT_MAX_FILE_BYTES } from "./config.js";
import { contentTypeOf, isHtml } from "./content-types.js";
import {
  injectLiveReload,
  LIVE_RELOAD_CLIENT,
  LIVE_RELOAD_SCRIPT_PATH,
  LIVE_RELOAD_SOCKET_PATH,
  LiveReload,
} from "./live-reload.js";
import { resolveCanvasFile } from "./resolve-file.js";

/** Options of `createCanvasHost`. */
export interface CanvasHostOptions {
  /** The folder served (created 0700 when missing). */
  root: string;
  /** @default "127.0.0.1" */
  host?: string;
  /** 0 picks a free port. @default 18793 */
  port?: number;
  /** Reload open pages when a file under root changes. @default true */
  liveReload?: boolean;
  /** Larger files get 413. @default 10 MiB */
  maxFileBytes?: number;
  /** Live-reload sockets beyond this are closed with 1013. @default 256 */
  maxLiveReloadPages?: number;
  /** Host names besides IP literals, localhost and this machine's name (the gateway's `gateway.allowedHosts`). */
  allowedHosts?: readonly string[];
  /** Browser origins allowed besides the canvas host's own (the gateway's `controlUi.allowedOrigins`). */
  allowedOrigins?: readonly string[];
  /** Where refusals and watcher errors go. */
  logger?: Logger;
}

/** Where a canvas host listens. */
export interface CanvasAddress {
  readonly host: string;
  readonly port: number;
  /** `http://host:port` (IPv6 in brackets) */
  readonly url: string;
}

/** A running (or not yet running) canvas host. */
export interface CanvasHost {
  /** Create the root, start watching, bind. Resolves with the address (port 0 picks one). */
  listen(): Promise<CanvasAddress>;
  /** Close pages' sockets, the watcher and the listener. Idempotent. */
  close(): Promise<void>;
  readonly address: CanvasAddress | undefined;
  readonly root: string;
  /** Pages connected for live reload. */
  readonly liveReloadListeners: number;
}

/** The reference's hosted canvas path: its clients address canvas files under it, so it serves the root too. */
export const REFERENCE_CANVAS_PATH = "/__openclaw__/canvas";

/** The request target with the reference's prefix taken off (`/__openclaw__/canvas/a.js` → `/a.js`). */
function withoutReferencePrefix(url: string): string {
  if (url === REFERENCE_CANVAS_PATH || url.startsWith(`${REFERENCE_CANVAS_PATH}?`))
    return `/${url.slice(REFERENCE_CANVAS_PATH.length)}`;
  return url.startsWith(`${REFERENCE_CANVAS_PATH}/`) ? url.slice(REFERENCE_CANVAS_PATH.length) : url;
}

const SECURITY_HEADERS = {
  "x-content-type-options": "nosniff",
  "referrer-policy": "no-referrer",
  "cache-control": "no-cache",
} as const;

const PLACEHOLDER = `<!doctype html>
<html><head><meta charset="utf-8"><title>Canvas</title></head>
<body><p>Nothing on the canvas yet: the agent draws by writing index.html (and its CSS and JS) into the canvas folder.</p></body></html>
`;

/**
 * A canvas host: serves the files under `root` on its own port — its own origin, so a page the agent wrote cannot
 * script the gateway's Control UI — with correct content types, nothing outside the root (no `..`, no symlink out),
 * a size cap, the gateway's Host and Origin rules, and live reload.
 */
export function createCanvasHost(options: CanvasHostOptions): CanvasHost {
  const bindHost = options.host ?? "127.0.0.1";
  const maxFileBytes = options.maxFileBytes ?? DEFAULT_MAX_FILE_BYTES;
  const liveReloadEnabled = options.liveReload !== false;
  const settings: FrontDoorSettings = {
    bindHost,
    allowedHosts: options.allowedHosts ?? [],
    allowedOrigins: options.allowedOrigins ?? [],
  };
  const liveReload = liveReloadEnabled
    ? new LiveReload(options.root, {
        onError: (error) => options.logger?.warn({ err: error }, "canvas watcher"),
        ...(options.maxLiveReloadPages !== undefined ? { maxPages: options.maxLiveReloadPages } : {}),
      })
    : undefined;
  let app: FastifyInstance | undefined;
  let address: CanvasAddress | undefined;
  let closing: Promise<void> | undefined;

  const build = (): FastifyInstance => {
    // Pages hold keep-alive connections; closing the host must not wait for them.
    const instance = Fastify({ logger: false, return503OnClosing: true, forceCloseConnections: true });
    instance.addHook("onRequest", (request, reply, done) => {
      const { host, origin } = request.headers;
      if (!isAllowedHost(host, settings)) {
        options.logger?.info({ remote: request.socket.remoteAddress, host }, "canvas request refused: unknown Host");
        reply
          .code(403)
          .headers(SECURITY_HEADERS)
          .type("text/plain; charset=utf-8")
          .send(hostRefusal(host ?? ""));
        return;
      }
      if (!isAllowedOrigin(origin, host, settings)) {
        options.logger?.info({ remote: request.socket.remoteAddress, origin }, "canvas request refused: Origin");
        reply
          .code(403)
          .headers(SECURITY_HEADERS)
          .type("text/plain; charset=utf-8")
          .send(originRefusal(origin ?? ""));
        return;
      }
      done();
    });
    // An upgrade answered with HTTP (refused) is over: without this its socket stays open and close() waits for it.
    instance.addHook("onResponse", (request, _reply, done) => {
      if (request.headers.upgrade?.toLowerCase() === "websocket") request.raw.socket.destroy();
      done();
    });
    instance.register(async (scope) => {
      await scope.register(fastifyWebsocket, {
        options: { maxPayload: 1024, perMessageDeflate: false, clientTracking: false },
      });
      scope.get(LIVE_RELOAD_SCRIPT_PATH, (_request, reply) => {
        reply.headers(SECURITY_HEADERS).type("text/javascript; charset=utf-8").send(LIVE_RELOAD_CLIENT);
      });
      scope.route({
        method: "GET",
        url: LIVE_RELOAD_SOCKET_PATH,
        handler: (_request, reply) => {
          reply.code(426).type("text/plain; charset=utf-8").send("this path is the live-reload WebSocket");
        },
        wsHandler: (socket) => {
          if (liveReload) liveReload.attach(socket);
          else socket.close(1000, "live reload is off");
        },
      });
      scope.get("/*", (request, reply) => serve(withoutReferencePrefix(request.raw.url ?? "/"), reply));
    });
    return instance;
  };

  const serve = async (url: string, reply: FastifyReply): Promise<void> => {
    reply.headers(SECURITY_HEADERS);
    const resolved = await resolveCanvasFile(options.root, url, maxFileBytes);
    if (!resolved.ok) {
      const path = url.split(/[?#]/, 1)[0] ?? "/";
      if (resolved.status === 404 && (path === "/" || path === "/index.html")) return sendHtml(reply, PLACEHOLDER);
      if (resolved.status === 403) options.logger?.warn({ url }, `canvas request refused: ${resolved.reason}`);
      reply.code(resolved.status).type("text/plain; charset=utf-8").send(`${resolved.reason}\n`);
      return;
    }
    if (isHtml(resolved.path)) return sendHtml(reply, await readFile(resolved.path, "utf8"));
    reply.type(contentTypeOf(resolved.path)).header("content-length", resolved.size);
    return reply.send(createReadStream(resolved.path));
  };

  const sendHtml = (reply: FastifyReply, html: string): void => {
    reply.type("text/html; charset=utf-8").send(liveReloadEnabled ? injectLiveReload(html) : html);
  };

  return {
    async listen() {
      if (address) return address;
      if (closing) throw new Error("this canvas host was closed; create a new one");
      await mkdir(options.root, { recursive: true, mode: 0o700 });
      await liveReload?.start();
      app = build();
      try {
        await app.listen({ host: bindHost, port: options.port ?? DEFAULT_CANVAS_PORT });
      } catch (error) {
        await app.close().catch(() => undefined);
        await liveReload?.close();
        if ((error as NodeJS.ErrnoException).code === "EADDRINUSE")
          throw new Error(
            `canvas host: port ${options.port ?? DEFAULT_CANVAS_PORT} on ${bindHost} is already in use: set canvasHost.port to another`,
            { cause: error },
          );
        throw error;
      }
      const bound = app.server.address();
      const port = typeof bound === "object" && bound ? bound.port : (options.port ?? DEFAULT_CANVAS_PORT);
      address = { host: bindHost, port, url: `http://${bindHost.includes(":") ? `[${bindHost}]` : bindHost}:${port}` };
      return address;
    },
    close() {
      closing ??= (async () => {
        await liveReload?.close();
        await app?.close();
        address = undefined;
      })();
      return closing;
    },
    get address() {
      return address;
    },
    root: options.root,
    get liveReloadListeners() {
      return liveReload?.listeners ?? 0;
    },
  };
}
