import type {
  EventName,
  EventPayload,
  ExposureStatus,
  HealthSnapshot,
  MethodName,
  MethodParams,
  MethodResult,
  SessionDefaults,
  StatusResult,
} from "@gateway/protocol";
import type { Static, TSchema } from "@sinclair/typebox";
import type { FastifyInstance } from "fastify";
import type { Logger } from "pino";
import type { BroadcastObserver, BroadcastOptions } from "./broadcaster.js";
import type { HealthContributor } from "./health.js";
import { createHttpApp, type HttpRoute, registerGatewayHttp } from "./http-app.js";
import type { CoreMethodOptions, CustomMethodOptions, MethodHandler } from "./method-registry.js";
import type { GatewayMetrics } from "./metrics.js";
import { type GatewayServerOptions, type ResolvedOptions, resolveOptions } from "./options.js";
import type { PluginSurfaceUrl } from "./plugin-surfaces.js";
import type { SharedPresence } from "./presence.js";
import type { ConnectionInfo, SystemEvent } from "./server-context.js";
import { createServerCore } from "./server-core.js";
import { certificateFingerprint } from "./tls/generated-certificate.js";

export type { HttpRoute, HttpRouteRequest } from "./http-app.js";
export type { PluginSurfaceRequest, PluginSurfaceUrl } from "./plugin-surfaces.js";
export type { ConnectionInfo, SystemEvent } from "./server-context.js";

/** A long-lived part of the gateway (channels, agent, cron…) started after `listen()` and stopped by `close()`. */
export interface GatewayService {
  readonly name: string;
  start(): void | Promise<void>;
  stop(): void | Promise<void>;
}

/** Where the server listens. */
export interface ListenAddress {
  readonly host: string;
  readonly port: number;
  /** `ws://host:port`, or `wss://` with TLS */
  readonly url: string;
  /** With TLS: the SHA-256 fingerprint of the certificate served (AB:CD:…), what a client pins. */
  readonly tlsFingerprint?: string;
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
  /**
   * Watch what `broadcast()` sends, after the local clients got it (the fleet fans shared events out to the other
   * instances). What the server sends on its own (tick, health, shutdown, presence) and `deliver()` are not seen.
   */
  onBroadcast(observer: BroadcastObserver): () => void;
  /**
   * Send an event produced elsewhere (another instance) to this server's clients exactly as `broadcast()` would —
   * audience, scopes, per-connection `seq` — without telling `onBroadcast` observers, so it never goes round again.
   */
  deliver(event: string, payload: unknown, options?: BroadcastOptions): number;
  /** The presence list as other instances share it: this instance's changes out, their entries in. */
  readonly presence: SharedPresence;
  /** Add an HTTP endpoint; before `listen()` (routes are fixed once the listener is up). */
  registerHttpRoute(route: HttpRoute): void;
  /** Add a long-lived service; started after listen (in order), stopped on close (in reverse). */
  registerService(service: GatewayService): void;
  /** Add a section to the health snapshot. */
  contributeHealth(name: string, contributor: HealthContributor): void;
  /** Add sections to the `status` result (the agent's heartbeat and sessions). */
  contributeStatus(contributor: () => Partial<StatusResult>): void;
  /** Where `hello-ok.snapshot.sessionDefaults` comes from (the agent's default and main session). */
  setSessionDefaults(provider: () => SessionDefaults): void;
  /** The last computed health snapshot (recomputed every health interval and on `refreshHealth`). */
  readonly healthSnapshot: HealthSnapshot;
  /** Recompute health now and broadcast it (call when a contributed section changed). */
  refreshHealth(): HealthSnapshot;
  /** Add a source of "what is missing and how to add it" lines for `status` and `health`. */
  addWarnings(provider: () => string[]): void;
  /** Advertise a web surface (the canvas host) in `hello-ok.pluginSurfaceUrls`; `url` returns undefined while it is down. */
  registerPluginSurface(surface: string, url: PluginSurfaceUrl): void;
  /** Show what is exposed beyond the gateway's port (canvas host, Tailscale, mDNS) in `status.exposure`. */
  contributeExposure<K extends keyof ExposureStatus>(name: K, provider: () => ExposureStatus[K] | undefined): void;
  /** Subscribe to connections, disconnections and system events. Each returns an unsubscribe function. */
  onConnection(listener: (connection: ConnectionInfo) => void): () => void;
  onDisconnect(listener: (connection: ConnectionInfo) => void): () => void;
  onSystemEvent(listener: (event: SystemEvent) => void): () => void;
  /**
   * Close the connections that `filter` selects (1008 with `reason`): a revoked device token or a removed device
   * takes effect on open connections at once. Returns how many were closed.
   */
  disconnect(filter: (connection: ConnectionInfo) => boolean, reason: string): number;
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

/** Create a gateway server. Nothing is bound until `listen()`; two servers can run in one process. */
export function createGatewayServer(input: GatewayServerOptions = {}): GatewayServer {
  let app: FastifyInstance | undefined;
  let closePromise: Promise<void> | undefined;
  const core = createServerCore(
    input,
    { own: true },
    {
      listen,
      close: (options = {}) => {
        closePromise ??= (async () => {
          await core.shutdown(options.reason ?? "gateway stopping", options.restartExpectedMs);
          await app?.close();
          await core.flushLog();
        })();
        return closePromise;
      },
      restartListener,
    },
  );
  const { context } = core;

  async function bindListener(): Promise<ListenAddress> {
    const options = context.options();
    app = createHttpApp(core.parts);
    try {
      await app.listen({ host: options.host, port: options.port });
    } catch (error) {
      await app.close().catch(() => undefined);
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
    const address = {
      host: options.host,
      port,
      url: `${options.tls ? "wss" : "ws"}://${host}:${port}`,
      ...(options.tls ? { tlsFingerprint: certificateFingerprint(options.tls.cert) } : {}),
    };
    core.setAddress(address);
    return address;
  }

  async function listen(): Promise<ListenAddress> {
    if (core.server.address) return core.server.address;
    if (context.lifecycle.closing) throw new Error("this gateway server was closed; create a new one");
    const bound = await bindListener();
    await core.started();
    const options = context.options();
    context.logger.info(
      {
        url: bound.url,
        version: options.version,
        authMode: options.auth.mode,
        ...(bound.tlsFingerprint ? { tlsFingerprint: bound.tlsFingerprint } : {}),
      },
      "gateway listening",
    );
    return bound;
  }

  async function restartListener(next: GatewayServerOptions, restartExpectedMs = 1_000): Promise<ListenAddress> {
    const address = core.server.address;
    if (!address || context.lifecycle.closing) throw new Error("restartListener needs a listening, open server");
    const merged = { ...core.currentInput(), ...next };
    const resolved = resolveOptions(merged); // refuse invalid settings before anything is torn down
    const previous = { options: context.options(), input: core.currentInput() };
    context.lifecycle.restarting = true;
    context.lifecycle.ready = false;
    try {
      context.logger.info({ from: address.url, host: resolved.host, port: resolved.port }, "restarting the listener");
      await core.drainConnections("restarting to apply a config change", restartExpectedMs);
      await core.closeConnections("restarting to apply a config change");
      await app?.close();
      core.setOptions(resolved, merged);
      try {
        await bindListener();
      } catch (error) {
        // The new bind failed (port taken…): come back on the old one and report why.
        core.setOptions(previous.options, previous.input);
        await bindListener();
        throw error;
      }
      if (next.logging?.level) context.logger.level = next.logging.level;
      const rebound = core.server.address!;
      context.logger.info({ url: rebound.url }, "listener restarted");
      return rebound;
    } finally {
      context.lifecycle.restarting = false;
      context.lifecycle.ready = !context.lifecycle.closing;
    }
  }

  return core.server;
}

/** Options of the fastify plugin: the server's options without a listener of its own. */
export type GatewayPluginOptions = Omit<GatewayServerOptions, "host" | "port" | "tls">;

/** A gateway server to mount in someone else's fastify app, and the plugin that mounts it. */
export interface MountableGateway {
  /** The server: register methods, HTTP routes (before the host app is ready) and services on it. */
  readonly server: GatewayServer;
  /** `app.register(gateway.plugin, { prefix: "/gateway" })`: the WebSocket endpoint and routes under the prefix. */
  readonly plugin: (fastify: FastifyInstance) => Promise<void>;
}

/**
 * The gateway inside someone else's fastify app (the trpc shape): its WebSocket endpoint and routes under the prefix
 * the plugin is registered with, its services started when the host app listens and stopped when it closes. The host
 * app owns the listener (`server.listen()` and `restartListener()` are not available; `server.close()` stops the
 * gateway's part alone).
 */
export function createGatewayPlugin(options: GatewayPluginOptions = {}): MountableGateway {
  let closePromise: Promise<void> | undefined;
  let mounted = false;
  const unavailableHere = async (): Promise<ListenAddress> => {
    throw new Error("a gateway mounted as a fastify plugin listens through its host app: call fastify.listen()");
  };
  const core = createServerCore(
    { ...options, port: 0 },
    { own: false },
    {
      listen: unavailableHere,
      restartListener: unavailableHere,
      close: (closeOptions = {}) => {
        closePromise ??= (async () => {
          await core.shutdown(closeOptions.reason ?? "gateway stopping", closeOptions.restartExpectedMs);
          await core.flushLog();
        })();
        return closePromise;
      },
    },
  );
  return {
    server: core.server,
    async plugin(fastify) {
      if (mounted) throw new Error("this gateway is already mounted in a fastify app");
      mounted = true;
      registerGatewayHttp(fastify, core.parts);
      fastify.addHook("onListen", async () => {
        await core.started();
      });
      fastify.addHook("preClose", async () => {
        await core.server.close();
      });
    },
  };
}
