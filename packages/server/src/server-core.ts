import { randomUUID } from "node:crypto";
import { hostname } from "node:os";
import { join } from "node:path";
import type {
  ExposureStatus,
  HealthSnapshot,
  MethodName,
  StateVersion,
  StatusResult,
  SystemEventParams,
} from "@gateway/protocol";
import { AuthRateLimiter } from "./auth.js";
import { Broadcaster, type BroadcastObserver, type BroadcastOptions } from "./broadcaster.js";
import { ConnectionAcceptor } from "./connection-acceptor.js";
import { registerCoreMethods } from "./core-methods.js";
import type { CloseOptions, GatewayServer, GatewayService, ListenAddress } from "./gateway-server.js";
import { HealthMonitor } from "./health.js";
import type { HttpRoute } from "./http-app.js";
import { IdempotencyCache } from "./idempotency.js";
import { createLogger } from "./logger.js";
import { type MethodContext, type MethodHandler, MethodRegistry } from "./method-registry.js";
import { GatewayMetrics } from "./metrics.js";
import { type GatewayServerOptions, type ResolvedOptions, resolveOptions } from "./options.js";
import { PluginSurfaces } from "./plugin-surfaces.js";
import { PresenceStore } from "./presence.js";
import { PresencePublisher } from "./presence-publisher.js";
import { RequestDispatcher } from "./request-dispatcher.js";
import { ConnectionTable, type ServerContext, ServerListeners, type SystemEvent } from "./server-context.js";

const SYSTEM_EVENT_QUEUE_LIMIT = 100;
const PRESENCE_BROADCAST_DELAY_MS = 250;

/** How a server is bound: its own fastify app and listener, or a host app's fastify (the plugin). */
export interface Binding {
  /** Serve on the gateway's own listener (standalone) — undefined when mounted in a host app. */
  readonly own: boolean;
}

/** The server without its listener: everything `createGatewayServer` and the fastify plugin share. */
export interface ServerCore {
  server: GatewayServer;
  context: ServerContext;
  parts: { context: ServerContext; acceptor: ConnectionAcceptor; routes: HttpRoute[] };
  /** Start the timers and services once serving (`address` known when standalone). */
  started(): Promise<void>;
  /** Tell clients, let requests finish, close sockets, stop services (in reverse), flush the log. */
  shutdown(reason: string, restartExpectedMs: number | undefined): Promise<void>;
  drainConnections(reason: string, restartExpectedMs: number | undefined): Promise<void>;
  closeConnections(reason: string): Promise<void>;
  setAddress(address: ListenAddress | undefined): void;
  setOptions(options: ResolvedOptions, input: GatewayServerOptions): void;
  currentInput(): GatewayServerOptions;
  /** The last log line, flushed; the logger the server created is closed. */
  flushLog(): Promise<void>;
}

/**
 * Build the parts of a server — context, method registry, dispatcher, acceptor, presence, health, core methods, the
 * service list — without a listener: `createGatewayServer` binds its own, `createGatewayPlugin` uses a host app's.
 */
export function createServerCore(
  input: GatewayServerOptions,
  binding: Binding,
  lifecycleHooks: {
    listen(): Promise<ListenAddress>;
    close(options?: CloseOptions): Promise<void>;
    restartListener(next: GatewayServerOptions, restartExpectedMs?: number): Promise<ListenAddress>;
  },
): ServerCore {
  let options = resolveOptions(input);
  let currentInput = input;
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
  const selfPresenceKey = `gateway-${randomUUID()}`;
  const startedAt = Date.now();
  const connections = new ConnectionTable();
  const shutdownController = new AbortController();
  const services: GatewayService[] = [];
  const startedServices: GatewayService[] = [];
  const warningProviders: Array<() => string[]> = [];
  const exposureProviders = new Map<keyof ExposureStatus, () => unknown>();
  const pluginSurfaces = new PluginSurfaces();
  const systemEvents: SystemEvent[] = [];
  const listeners = new ServerListeners(logger);
  const lifecycle = { closing: false, restarting: false, ready: false };
  const timers: NodeJS.Timeout[] = [];
  let address: ListenAddress | undefined;

  const metrics = new GatewayMetrics(() => connections.counts().total);
  const idempotency = new IdempotencyCache(options.idempotencyTtlMs, options.idempotencyMaxEntries);
  const registry = new MethodRegistry(idempotency, options.requestTimeoutMs);
  const presence = new PresenceStore(
    {
      maxEntries: options.presenceMaxEntries,
      ttlMs: options.presenceTtlMs,
      departedTtlMs: options.presenceDepartedTtlMs,
    },
    selfPresenceKey,
  );
  const health = new HealthMonitor();
  const rateLimiter = new AuthRateLimiter(options.authMaxFailures, options.authWindowMs, options.authLockoutMs);
  const stateVersion = (): StateVersion => ({ presence: presence.version, health: health.version });
  let dispatcher: RequestDispatcher | undefined;
  const broadcaster = new Broadcaster(
    connections.byId,
    {
      get slowThresholdBytes() {
        return options.slowThresholdBytes;
      },
      get maxBufferedBytes() {
        return options.maxBufferedBytes;
      },
    },
    metrics,
    (connection) => dispatcher?.closeSlowConsumer(connection),
  );
  const presenceReaders = new PresencePublisher(presence, broadcaster, metrics, stateVersion, {
    minIntervalMs: PRESENCE_BROADCAST_DELAY_MS,
    bytesPerSecond: () => options.presenceBytesPerSecond,
  });
  const statusContributors = new Set<() => Partial<StatusResult>>();
  const broadcastObservers = new Set<BroadcastObserver>();
  const broadcast = (event: string, payload: unknown, broadcastOptions: BroadcastOptions = {}): number => {
    if (broadcastObservers.size === 0) return broadcaster.broadcast(event, payload, broadcastOptions);
    // Serialised once, for the local clients and for the observers.
    const payloadJson = broadcastOptions.payloadJson ?? (payload === undefined ? undefined : JSON.stringify(payload));
    const sent = broadcaster.broadcast(event, payload, { ...broadcastOptions, payloadJson });
    for (const observer of broadcastObservers) {
      try {
        observer(event, payloadJson, broadcastOptions);
      } catch (error) {
        logger.error({ err: error, event }, "a broadcast observer failed");
      }
    }
    return sent;
  };
  const context: ServerContext = {
    options: () => options,
    logger,
    metrics,
    registry,
    presence,
    presenceReaders,
    health,
    broadcaster,
    rateLimiter,
    connections,
    listeners,
    pluginSurfaces,
    startedAt,
    lifecycle,
    shutdownSignal: shutdownController.signal,
    stateVersion,
    sessionDefaults: undefined,
    presenceChanged() {
      if (!lifecycle.closing) presenceReaders.changed();
    },
  };
  dispatcher = new RequestDispatcher(context);
  const requests = dispatcher;
  const acceptor = new ConnectionAcceptor(context, requests);
  const routes: HttpRoute[] = [];

  const warnings = (): string[] => {
    const lines: string[] = [];
    if (options.auth.mode === "none")
      lines.push("auth is off (allowed on loopback only): set gateway.auth.mode to token");
    for (const provider of warningProviders) {
      try {
        lines.push(...provider());
      } catch (error) {
        logger.error({ err: error }, "a warnings provider failed");
      }
    }
    return lines;
  };
  const exposure = (): ExposureStatus | undefined => {
    const result: Record<string, unknown> = {};
    for (const [name, provider] of exposureProviders) {
      try {
        const value = provider();
        if (value !== undefined) result[name] = value;
      } catch (error) {
        logger.error({ err: error, exposure: name }, "an exposure provider failed");
      }
    }
    return Object.keys(result).length > 0 ? (result as ExposureStatus) : undefined;
  };
  const refreshHealth = (): HealthSnapshot => {
    const snapshot = health.refresh();
    if (address || !binding.own) broadcaster.broadcast("health", snapshot, { stateVersion: stateVersion() });
    return snapshot;
  };
  const subscribe = <T>(set: Set<T>, listener: T) => {
    set.add(listener);
    return () => set.delete(listener);
  };

  const server: GatewayServer = {
    listen: lifecycleHooks.listen,
    close: lifecycleHooks.close,
    restartListener: lifecycleHooks.restartListener,
    updateSettings(next) {
      const merged = { ...currentInput, ...next };
      const resolved = resolveOptions(merged);
      const needsRestart =
        resolved.host !== options.host || resolved.port !== options.port || resolved.auth.mode !== options.auth.mode;
      if (needsRestart) throw new Error("host, port and auth mode change only with restartListener()");
      currentInput = merged;
      options = resolved;
      registry.defaultTimeoutMs = resolved.requestTimeoutMs;
      rateLimiter.configure(resolved.authMaxFailures, resolved.authWindowMs, resolved.authLockoutMs);
      if (next.logging?.level) logger.level = next.logging.level;
    },
    registerMethod: ((name: string, handler: MethodHandler<never>, methodOptions?: never) =>
      registry.register(
        name as MethodName,
        handler as never,
        methodOptions,
      )) as unknown as GatewayServer["registerMethod"],
    broadcast: broadcast as GatewayServer["broadcast"],
    onBroadcast: (observer) => subscribe(broadcastObservers, observer),
    deliver: (event, payload, deliverOptions) => broadcaster.broadcast(event, payload, deliverOptions),
    presence: {
      onChange: (listener) => presence.onChange(listener),
      ownEntries: () => presence.ownEntries(),
      tagOwn: (tag) => presence.tagOwn(tag),
      // Entries from elsewhere go out to this instance's readers like its own changes (coalesced).
      setRemote(origin, key, entry) {
        presence.setRemote(origin, key, entry);
        context.presenceChanged();
      },
      dropRemote(origin) {
        presence.dropRemote(origin);
        context.presenceChanged();
      },
    },
    registerHttpRoute(route) {
      if (lifecycle.ready || address)
        throw new Error(`registerHttpRoute(${route.url}) after listen(): register routes before`);
      routes.push(route);
    },
    registerService(service) {
      services.push(service);
      if (lifecycle.ready && !lifecycle.closing) {
        void Promise.resolve(service.start()).then(
          () => startedServices.push(service),
          (error: unknown) => logger.error({ err: error, service: service.name }, "service failed to start"),
        );
      }
    },
    contributeHealth: (name, contributor) => health.contribute(name, contributor),
    contributeStatus: (contributor) => {
      statusContributors.add(contributor);
    },
    setSessionDefaults: (provider) => {
      context.sessionDefaults = provider;
    },
    refreshHealth,
    addWarnings: (provider) => {
      warningProviders.push(provider);
    },
    registerPluginSurface: (surface, url) => pluginSurfaces.register(surface, url),
    contributeExposure(name, provider) {
      exposureProviders.set(name, provider);
    },
    onConnection: (listener) => subscribe(listeners.connection, listener),
    onDisconnect: (listener) => subscribe(listeners.disconnect, listener),
    onSystemEvent: (listener) => subscribe(listeners.systemEvent, listener),
    drainSystemEvents: () => systemEvents.splice(0),
    disconnect(filter, reason) {
      let closed = 0;
      for (const connection of connections.byId.values()) {
        const identity = connection.identity;
        if (!identity || connection.state !== "ready") continue;
        if (!filter({ id: connection.id, remoteAddress: connection.remoteAddress, identity })) continue;
        connection.close(1008, reason);
        closed++;
      }
      return closed;
    },
    logger,
    metrics,
    get healthSnapshot() {
      return health.snapshot;
    },
    get connectionCount() {
      return connections.counts().total;
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
      gateway: health.processHealth(options.version, startedAt, connections.counts(), warnings()),
    }),
    status: () => {
      const exposed = exposure();
      return {
        ts: Date.now(),
        version: options.version,
        uptimeMs: Date.now() - startedAt,
        startedAtMs: startedAt,
        authMode: options.auth.mode,
        listen: { host: address?.host ?? options.host, port: address?.port ?? options.port },
        connections: connections.counts(),
        ...(options.stateDir ? { stateDir: options.stateDir } : {}),
        ...(options.configPath ? { configPath: options.configPath } : {}),
        methods: registry.names().length,
        warnings: warnings(),
        ...(exposed ? { exposure: exposed } : {}),
        ...(address?.tlsFingerprint ? { tls: { fingerprintSha256: address.tlsFingerprint } } : {}),
        ...Object.assign({}, ...[...statusContributors].map((contributor) => contributor())),
      };
    },
    presence: (methodContext: MethodContext) => {
      // A client that asks for the list shows presence: from now on it gets the changes too.
      const connection = connections.byId.get(methodContext.connectionId);
      if (connection) presenceReaders.addReader(connection);
      return presence.list();
    },
    systemEvent: (params: SystemEventParams, methodContext: MethodContext) => {
      const connection = connections.byId.get(methodContext.connectionId);
      const key =
        params.instanceId ??
        connection?.presenceKey ??
        methodContext.identity.client.instanceId ??
        methodContext.connectionId;
      presence.upsert(key, {
        text: params.text,
        ...(params.host ? { host: params.host } : {}),
        ip: params.ip ?? methodContext.remoteAddress,
        ...(params.mode ? { mode: params.mode } : {}),
        ...(params.version ? { version: params.version } : {}),
        ...(params.platform ? { platform: params.platform } : {}),
        ...(params.deviceFamily ? { deviceFamily: params.deviceFamily } : {}),
        ...(params.tags ? { tags: params.tags } : {}),
        reason: params.reason ?? "system-event",
        instanceId: key,
      });
      context.presenceChanged();
      const event: SystemEvent = {
        text: params.text,
        ts: Date.now(),
        ...(params.sessionKey ? { sessionKey: params.sessionKey } : {}),
        source: { connectionId: methodContext.connectionId, instanceId: key },
      };
      systemEvents.push(event);
      if (systemEvents.length > SYSTEM_EVENT_QUEUE_LIMIT) systemEvents.shift();
      listeners.emit("systemEvent", event);
    },
    logFile,
  });

  const drainConnections = async (reason: string, restartExpectedMs: number | undefined): Promise<void> => {
    broadcaster.broadcast("shutdown", { reason, ...(restartExpectedMs !== undefined ? { restartExpectedMs } : {}) });
    if (requests.inFlight.size === 0) return;
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<void>((resolve) => {
      timer = setTimeout(resolve, options.shutdownTimeoutMs);
    });
    await Promise.race([Promise.allSettled([...requests.inFlight]), deadline]);
    clearTimeout(timer);
  };
  const closeConnections = async (reason: string): Promise<void> => {
    await Promise.all(
      [...connections.byId.values()].map(
        (connection) =>
          new Promise<void>((resolve) => {
            if (connection.socket.readyState === 3) return resolve();
            connection.socket.once("close", () => resolve());
            connection.close(1012, reason, 1000);
          }),
      ),
    );
  };

  return {
    server,
    context,
    parts: { context, acceptor, routes },
    async started() {
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
            if (presence.sweep()) context.presenceChanged();
          },
          Math.max(
            10,
            Math.min(60_000, Math.floor(Math.min(options.presenceTtlMs, options.presenceDepartedTtlMs) / 2)),
          ),
        ),
      );
      for (const timer of timers) timer.unref();
      for (const service of services) {
        await service.start();
        startedServices.push(service);
      }
      lifecycle.ready = true;
    },
    async shutdown(reason, restartExpectedMs) {
      lifecycle.closing = true;
      lifecycle.ready = false;
      logger.info({ reason }, "gateway shutting down");
      await drainConnections(reason, restartExpectedMs);
      shutdownController.abort(new Error("gateway shutting down"));
      for (const timer of timers) clearInterval(timer);
      presenceReaders.close();
      await closeConnections(reason);
      for (const service of startedServices.splice(0).reverse()) {
        try {
          await service.stop();
        } catch (error) {
          logger.error({ err: error, service: service.name }, "service failed to stop");
        }
      }
      health.close();
    },
    drainConnections,
    closeConnections,
    setAddress(next) {
      address = next;
    },
    setOptions(next, nextInput) {
      options = next;
      currentInput = nextInput;
    },
    currentInput: () => currentInput,
    async flushLog() {
      logger.info("gateway stopped");
      await new Promise<void>((resolve) => logger.flush(() => resolve()));
      ownedLogger?.close();
    },
  };
}
