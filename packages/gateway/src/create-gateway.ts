import { chmodSync, mkdirSync, readFileSync, statSync } from "node:fs";
import { hostname } from "node:os";
import { join } from "node:path";
import {
  AgentService,
  type AgentsConfigSection,
  chatCompletionsRoutes,
  createRuntimeFromConfig,
  type DmScope,
  type ModelsConfigSection,
  type PiProvider,
  type RunObserver,
  type SelectedRuntime,
  type SessionConfigSection,
} from "@gateway/agent";
import { controlUiRoot } from "@gateway/control-ui";
import {
  agentTurnRunner,
  type CronConfigSection,
  type CronHost,
  CronService,
  cronOptionsFromConfig,
  type HeartbeatConfigSection,
  HeartbeatService,
  heartbeatOptionsFromConfig,
  registerCronMethods,
} from "@gateway/cron";
import type { FleetConfigSection } from "@gateway/fleet/config";
import { DeviceStore } from "@gateway/pairing";
import type { ChannelPlugin } from "@gateway/plugin-sdk";
import { PROTOCOL_VERSION } from "@gateway/protocol";
import type { RedisConfigSection } from "@gateway/redis-bridge";
import {
  attachChannels,
  attachConfig,
  ChannelManager,
  type CloseOptions,
  type ConfigLayer,
  ConfigManager,
  createGatewayServer,
  DevicePairing,
  ensureStarterConfig,
  type GatewayServer,
  type ListenAddress,
  serverOptionsFromConfig,
} from "@gateway/server";
import { acquireStateLock, type StateLock } from "@gateway/state";
import pino from "pino";
import { attachRedisBridge } from "./attach-redis-bridge.js";
import { builtinChannels } from "./builtin-channels.js";
import { attachCanvasHost } from "./canvas.js";
import { type Environment, environmentLayer, gatewayConfigSchema } from "./config.js";
import { attachDiscovery } from "./discovery.js";
import {
  attachFleet,
  attachFleetConfig,
  attachFleetCron,
  attachFleetDelivery,
  attachFleetEvents,
  attachFleetIdempotency,
  attachFleetPairing,
  attachFleetSessions,
  type FleetMembership,
} from "./fleet/index.js";
import { attachReferenceSurface, contextWindowOf, SessionEvents } from "./reference-surface/index.js";
import { attachTailscale, checkTailscaleAuth } from "./tailscale.js";

/** Options of `createGateway`. Only paths are required; everything else comes from the config file. */
export interface GatewayOptions {
  /** Where state, config and logs live (created mode 0700). */
  stateDir: string;
  /** @default `<stateDir>/gateway.json5` */
  configPath?: string;
  /** For `${VAR}` in the config and the `GATEWAY_*` overrides; the app passes `process.env`. @default {} */
  env?: Environment;
  /** Values laid over the file and the environment (the app's command-line flags). */
  flags?: ConfigLayer;
  /** The model to use when the config names none (the app maps `OPENAI_*` to it). */
  fallbackModel?: { provider: PiProvider; model: string };
  /** Reported in `hello-ok`, `health` and `status`. @default "0.0.0" */
  version?: string;
  /** Write a commented starter config with a fresh token when there is no file. @default true */
  writeStarterConfig?: boolean;
  /** Logging beyond the config's `logging` section: JSON lines, or nothing on stdout. */
  logging?: { json?: boolean; stdout?: boolean };
  /** How a built-in channel's library is imported (the app imports its own bundles). */
  loadBuiltinChannel?: (id: string) => Promise<ChannelPlugin>;
  /** The built Control UI to serve (`gateway.controlUi` turns it off or moves it). @default @gateway/control-ui's build */
  controlUiRoot?: string;
}

/** What a started gateway runs, for a banner or a check. */
export interface GatewayDescription {
  readonly stateDir: string;
  readonly configPath: string;
  /** Set when this start wrote the starter config: the token it generated. */
  readonly starterToken: string | undefined;
  readonly authMode: string;
  /** The backend that answers and, when no model is configured, what to do about it. */
  readonly agent: { summary: string; backend: string; warning?: string };
  readonly channels: readonly string[];
  readonly redisUrl: string | undefined;
  readonly cron: { jobs: number; path: string };
  readonly heartbeatEveryMs: number;
  /** Where the web Control UI is served (`gateway.controlUi`). */
  readonly controlUi: { enabled: boolean; basePath: string };
  /** What the start changed or found that the user should know (a config holding secrets made private…). */
  readonly notices: readonly string[];
}

/** A gateway: its parts, and its lifecycle. */
export interface Gateway {
  /** Bind and start every service; resolves with the address (port 0 picks a free one). */
  listen(): Promise<ListenAddress>;
  /** Stop everything in order (channels before the agent), release the state directory. Idempotent. */
  close(options?: CloseOptions): Promise<void>;
  describe(): GatewayDescription;
  readonly server: GatewayServer;
  readonly config: ConfigManager;
  readonly agent: AgentService;
  readonly channels: ChannelManager;
  readonly cron: CronService;
  readonly heartbeat: HeartbeatService;
  /** Paired devices and connected nodes. */
  readonly devices: DevicePairing;
}

/** The parts of the config the composition reads. */
interface ComposedConfig {
  models?: ModelsConfigSection;
  agents?: AgentsConfigSection;
  session?: SessionConfigSection & { dmScope?: DmScope };
  redis?: RedisConfigSection;
  fleet?: FleetConfigSection;
  cron?: CronConfigSection;
  heartbeat?: HeartbeatConfigSection;
  channels?: Record<string, unknown>;
  plugins?: string[];
  gateway?: {
    http?: { endpoints?: { chatCompletions?: { enabled?: boolean } } };
    pairing?: { autoApproveLoopback?: boolean };
    controlUi?: { allowInsecureAuth?: boolean };
  };
}

/**
 * Create a gateway: take the state directory (one gateway per directory), load and validate the config, and compose
 * the server with the config manager, the agent, the channels, cron and the heartbeat, and — when `redis.url` is
 * set — the Redis bridge. Nothing listens until `listen()`. Throws a ConfigError for an invalid config and a
 * StateError when another gateway holds the state directory; nothing is left behind either way.
 */
export function createGateway(options: GatewayOptions): Gateway {
  const { stateDir } = options;
  const configPath = options.configPath ?? join(stateDir, "gateway.json5");
  const env = options.env ?? {};
  const version = options.version ?? "0.0.0";
  mkdirSync(stateDir, { recursive: true, mode: 0o700 });
  const lock = acquireStateLock(stateDir, { version });
  try {
    return compose(options, { stateDir, configPath, env, version, lock });
  } catch (error) {
    lock.release();
    throw error;
  }
}

function compose(
  options: GatewayOptions,
  context: { stateDir: string; configPath: string; env: Environment; version: string; lock: StateLock },
): Gateway {
  const { stateDir, configPath, env, version, lock } = context;
  const starter = options.writeStarterConfig === false ? undefined : ensureStarterConfig(configPath);
  const notices = protectSecrets(configPath, stateDir);
  const manager = ConfigManager.load({
    path: configPath,
    stateDir,
    schema: gatewayConfigSchema,
    env,
    layers: [environmentLayer(env), ...(options.flags ? [options.flags] : [])],
    version,
    logger: pino({ level: "silent" }),
  });
  const current = () => manager.current.config as ComposedConfig;
  const fromConfig = serverOptionsFromConfig(manager.current.config, { stateDir });
  // ---- devices and nodes: their connect stages go into the server, their methods onto it
  const devices = new DevicePairing({
    store: new DeviceStore(stateDir, {
      onProblem: (problem) =>
        server.logger.error(
          `${problem.path} was unusable (${problem.reason}); moved to ${problem.movedTo}: devices pair again`,
        ),
    }),
    autoApproveLoopback: () => current().gateway?.pairing?.autoApproveLoopback !== false,
    allowDevicelessControlUi: () => current().gateway?.controlUi?.allowInsecureAuth === true,
  });
  checkTailscaleAuth(configPath, manager.current.config, fromConfig.auth?.mode);
  const server = createGatewayServer({
    ...fromConfig,
    connectStages: devices.connectStages(),
    stateDir,
    configPath,
    version,
    logging: { ...fromConfig.logging, ...options.logging },
    controlUiRoot: options.controlUiRoot ?? controlUiRoot(),
  });
  attachConfig(server, manager);
  devices.attach(server);
  for (const notice of notices) server.logger.warn(notice);

  server.metrics.setBuildInfo({ version, protocol: PROTOCOL_VERSION });

  // ---- the agent: the backend the config asks for (auto: pi when a model is configured, else echo, said loudly)
  // Every run is counted; a model error is logged and shown in status/health until a later model run succeeds.
  let lastModelError: { at: number; message: string } | undefined;
  const observe: RunObserver = (run) => {
    server.metrics.agentRun(run);
    if (!run.model) return;
    if (run.outcome === "error") {
      lastModelError = { at: run.at, message: run.error ?? "the run failed" };
      server.logger.error({ provider: run.model.provider, url: run.model.baseUrl }, lastModelError.message);
      server.refreshHealth();
    } else if (run.outcome !== "aborted" && lastModelError) {
      lastModelError = undefined;
      server.logger.info(`model ${run.model.provider}/${run.model.model} answers again`);
      server.refreshHealth();
    }
  };
  const runtimeContext = {
    stateDir,
    parentEnv: env,
    observe,
    ...(options.fallbackModel ? { fallbackModel: options.fallbackModel } : {}),
  };
  let selected: SelectedRuntime = createRuntimeFromConfig(current(), runtimeContext);
  const sessionSettings = (config: ComposedConfig) => ({
    resetPolicy: { mode: "off" as const, ...config.session?.reset },
    resetTriggers: config.session?.resetTriggers ?? ["/new", "/reset"],
    ...(config.session?.dmScope ? { dmScope: config.session.dmScope } : {}),
    ...(config.session?.maxMessageBytes ? { maxMessageBytes: config.session.maxMessageBytes } : {}),
    ...(config.session?.maxTranscriptBytes ? { maxTranscriptBytes: config.session.maxTranscriptBytes } : {}),
  });
  // ---- the fleet (fleet.enabled, on the Redis of redis.url): each channel account and each session's turns run on one instance at a time
  const fleetConfig = current().fleet;
  let fleet: FleetMembership | undefined;
  if (fleetConfig?.enabled) {
    const url = current().redis?.url;
    if (!url) throw new Error("fleet.enabled needs redis.url: the instances of a fleet meet in Redis");
    fleet = attachFleet(server, url, fleetConfig, version);
    attachFleetEvents(server, fleet);
    attachFleetIdempotency(server, fleet);
    attachFleetConfig(server, fleet, manager);
  }
  const fleetSessions =
    fleet &&
    attachFleetSessions(server, fleet, { agentId: "main", runTimeoutMs: () => selected.runTimeoutMs ?? 600_000 });
  const sessionEvents = new SessionEvents(server);
  const agent = new AgentService(
    {
      registerMethod: (name, handler, methodOptions) => server.registerMethod(name, handler, methodOptions),
      broadcast: (event, payload) => {
        const sent = server.broadcast(event, payload);
        sessionEvents.observe(event, payload);
        return sent;
      },
      drainSystemEvents: () => server.drainSystemEvents(),
      checkDeliveryTarget: (target) => channels.checkTarget(target),
      async deliver(target, text) {
        await channels.deliver({ ...target, peer: target.peer ?? "" }, text);
      },
    },
    {
      stateDir,
      runtime: selected.runtime,
      runTimeoutMs: selected.runTimeoutMs,
      ...(selected.queueMode ? { defaultQueueMode: selected.queueMode } : {}),
      ...(selected.maxConcurrentRuns ? { maxConcurrentRuns: selected.maxConcurrentRuns } : {}),
      ...sessionSettings(current()),
      onStateProblem: (problem) =>
        server.logger.error(
          `${problem.path} could not be used (${problem.reason}); moved to ${problem.movedTo}. Sessions start over; the transcripts are untouched.`,
        ),
      onSaveFailure: (error, run) =>
        server.logger.error({ err: error, ...run }, `a reply could not be saved to the transcript: ${error.message}`),
      defaultModel: () => {
        const target = selected.model;
        if (!target) return undefined;
        const contextWindow = contextWindowOf(current().models, target);
        return { provider: target.provider, model: target.model, ...(contextWindow ? { contextWindow } : {}) };
      },
      ...fleetSessions?.options,
    },
  );
  fleetSessions?.attach(agent);
  agent.register();
  // A new model or backend applies to the next run; running ones finish on the old. A config that cannot work is
  // refused (rolled back) with the reason.
  const applyAgentConfig = async (next: Record<string, unknown>) => {
    const fresh = createRuntimeFromConfig(next as ComposedConfig, runtimeContext);
    await agent.replaceRuntime(fresh.runtime);
    selected = fresh;
    heartbeat.configure(heartbeatOptions(next as ComposedConfig));
    server.refreshHealth();
  };
  manager.subscribe("agents", applyAgentConfig);
  manager.subscribe("models", applyAgentConfig);
  manager.subscribe("session", (next) => agent.configure(sessionSettings(next as ComposedConfig)));
  for (const route of chatCompletionsRoutes(agent, {
    enabled: () => current().gateway?.http?.endpoints?.chatCompletions?.enabled === true,
  }))
    server.registerHttpRoute(route);
  server.registerService({
    name: "agent",
    start() {
      if (selected.warning) server.logger.warn(selected.warning);
      else server.logger.info(`agent: ${selected.summary}`);
    },
    stop: () => agent.dispose(),
  });

  const membership = fleet;
  server.registerMethod("fleet.status", () =>
    membership ? membership.status() : { enabled: false, self: hostname(), leaseMs: 0, members: [] },
  );

  // ---- channels: registered after the agent, so on shutdown they stop taking messages before the agent stops
  let healthPending = false;
  const channels = new ChannelManager({
    stateDir,
    ...(fleet
      ? { ownership: fleet.ownership, forwardSend: attachFleetDelivery(server, fleet, (): ChannelManager => channels) }
      : {}),
    logger: server.logger,
    onMessage(message) {
      if (message.ok) server.metrics.channelMessage(message.direction, message.channel, message.accountId);
      else server.metrics.channelSendFailure(message.channel, message.accountId);
    },
    builtins: builtinChannels(options.loadBuiltinChannel),
    host: { run: ({ inbound, text }) => agent.answer(inbound, text) },
    onStatusChange() {
      // Status changes come in bursts (start, connect): one health broadcast for them.
      if (healthPending) return;
      healthPending = true;
      setTimeout(() => {
        healthPending = false;
        server.refreshHealth();
      }, 250).unref();
    },
  });
  if (fleet) attachFleetPairing(server, fleet, { devices: devices.store, dmPairing: channels.pairing });
  attachChannels(server, channels, {
    channels: () => current().channels,
    plugins: current().plugins ?? [],
    baseDir: join(configPath, ".."),
  });
  manager.subscribe("channels", (next) => channels.apply((next as ComposedConfig).channels));
  server.addWarnings(() => (selected.warning ? [selected.warning] : []));
  server.addWarnings(() =>
    lastModelError
      ? [`last model error at ${new Date(lastModelError.at).toISOString()}: ${lastModelError.message}`]
      : [],
  );

  // ---- scheduled work: cron jobs and the heartbeat run through the agent
  const cronHost: CronHost = {
    mainSessionKey: agent.mainSessionKey,
    systemEvent: (text, eventOptions) => agent.systemEvent(text, eventOptions),
    agentTurn: agentTurnRunner({
      send: (sessionKey, message, sendOptions) => agent.send(sessionKey, message, sendOptions),
      abort: (sessionKey, runId) => agent.lanes.abort(sessionKey, runId),
      sessionId: (sessionKey) => agent.store.get(sessionKey)?.sessionId,
    }),
    broadcast: (event, payload) => server.broadcast(event, payload),
    log: { info: (message) => server.logger.info(message), warn: (message) => server.logger.warn(message) },
    async deliver(target, text) {
      const resolved =
        target === "last" ? agent.lastOrigin() : { ...target, ...(target.to ? { peer: target.to } : {}) };
      if (!resolved?.peer)
        throw new Error(
          target === "last"
            ? 'no chat to deliver to yet ("last" is the chat the agent last talked in)'
            : `deliver to ${target.channel} needs to (the chat id)`,
        );
      await channels.deliver({ ...resolved, peer: resolved.peer }, text);
    },
  };
  const cronSection = current().cron ?? {};
  // In a fleet the jobs live in Redis and one instance at a time runs them (fleet/cron.ts).
  const fleetCron = fleet ? attachFleetCron(server, fleet, { stateDir }) : undefined;
  const cron = new CronService({
    stateDir,
    host: cronHost,
    ...(fleet ? { store: fleetCron!.store, instanceId: fleet.id } : {}),
    ...cronOptionsFromConfig(cronSection),
    onRunFinished: (status) => server.metrics.cronRun(status),
  });
  const heartbeatOptions = (config: ComposedConfig) =>
    heartbeatOptionsFromConfig(config.heartbeat, {
      modelConfigured: selected.backend !== "echo",
      runTimeoutMs: selected.runTimeoutMs,
    });
  const heartbeat = new HeartbeatService(
    {
      ...cronHost,
      workspace: current().agents?.defaults?.workspace ?? join(stateDir, "agents", "main", "workspace"),
      isBusy: (sessionKey) => agent.lanes.isBusy(sessionKey),
      broadcast: (event, payload) => server.broadcast(event, payload),
    },
    heartbeatOptions(current()),
  );
  registerCronMethods(server, cron, heartbeat);
  const workspace = () => current().agents?.defaults?.workspace ?? join(stateDir, "agents", "main", "workspace");
  attachReferenceSurface(server, {
    agent,
    sessionEvents,
    stateDir,
    config: current,
    selected: () => selected,
    heartbeat: () => heartbeatOptions(current()),
    workspace,
  });
  server.registerService({
    name: "cron",
    async start() {
      if (fleetCron) return fleetCron.start(cron, heartbeat, { runJobs: cronSection.enabled !== false });
      if (cronSection.enabled !== false) await cron.start();
      heartbeat.start();
    },
    async stop() {
      await fleetCron?.stop();
      heartbeat.stop();
      cron.stop();
    },
  });
  manager.subscribe("heartbeat", (next) => heartbeat.configure(heartbeatOptions(next as ComposedConfig)));
  server.addWarnings(() => (heartbeat.alarm ? [`heartbeat watchdog: ${heartbeat.alarm}`] : []));
  server.addWarnings(() => {
    const last = heartbeat.last();
    return last?.status === "failed"
      ? [
          `heartbeat failing: the last one (${new Date(last.ts).toISOString()}) failed: ${last.reason ?? "unknown reason"}`,
        ]
      : [];
  });

  // ---- what the gateway exposes beyond its port, each off by default: the canvas host, Tailscale, mDNS
  attachCanvasHost(server, manager, stateDir);
  attachTailscale(server, manager, env);
  attachDiscovery(server, manager);

  // ---- background events: with redis.url this gateway is the central consumer
  const redisUrl = current().redis?.url;
  // In a fleet with stable instance ids each instance drains as itself: its in-flight batch is its own, and taken up
  // again when it restarts under the same id (a generated `<host>-<pid>` id would not come back: the host name stays).
  if (redisUrl)
    attachRedisBridge(server, agent, redisUrl, () => {
      const section = current().redis ?? {};
      const instanceId = current().fleet?.enabled ? current().fleet?.instanceId : undefined;
      return instanceId && !section.consumerId ? { ...section, consumerId: instanceId } : section;
    });

  let closed = false;
  return {
    async listen() {
      try {
        const address = await server.listen();
        // Where this gateway really listens (flags may differ from the config): the CLI reads it.
        lock.update({ url: address.url });
        return address;
      } catch (error) {
        await server.close().catch(() => undefined);
        lock.release();
        throw error;
      }
    },
    async close(closeOptions) {
      if (closed) return;
      closed = true;
      // The state directory stays ours until everything else has stopped.
      await server.close(closeOptions);
      server.metrics.close();
      lock.release();
    },
    describe: () => ({
      stateDir,
      configPath,
      starterToken: starter?.token,
      authMode: server.options.auth.mode,
      agent: {
        summary: selected.summary,
        backend: selected.backend,
        ...(selected.warning ? { warning: selected.warning } : {}),
      },
      channels: Object.keys(current().channels ?? {}),
      redisUrl,
      cron: { jobs: cron.status().jobs, path: cron.store.location },
      heartbeatEveryMs: heartbeatOptions(current()).everyMs,
      controlUi: server.options.controlUi,
      notices,
    }),
    server,
    config: manager,
    agent,
    channels,
    cron,
    heartbeat,
    devices,
  };
}

/**
 * A config that holds a secret and others may read is made private (0600) at start, and the state directory 0700:
 * said, not only warned about by `doctor`. Returns what was changed.
 */
function protectSecrets(configPath: string, stateDir: string): string[] {
  const notices: string[] = [];
  try {
    const mode = statSync(stateDir).mode & 0o777;
    if (mode & 0o077) {
      chmodSync(stateDir, 0o700);
      notices.push(`the state directory was readable by others (${mode.toString(8)}); it is 700 now`);
    }
  } catch {
    // created just before; nothing to protect
  }
  let text: string;
  try {
    text = readFileSync(configPath, "utf8");
  } catch {
    return notices;
  }
  const mode = statSync(configPath).mode & 0o777;
  if (mode & 0o077 && /\b(token|password|secret|apiKey|botToken)\b\s*["']?\s*:/i.test(text)) {
    chmodSync(configPath, 0o600);
    notices.push(`${configPath} holds secrets and was readable by others (${mode.toString(8)}); it is 600 now`);
  }
  return notices;
}
