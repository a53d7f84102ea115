// The gateway command (bundled into dist/gateway.js and loaded by dist/main.js). It runs the gateway in the foreground
// on its embedded defaults: no Redis, no channels, no model key needed. Flags and GATEWAY_* variables set everything.
import { mkdirSync, rmSync } from "node:fs";
import { homedir } from "node:os";
import { join, resolve } from "node:path";
import { parseArgs } from "node:util";
import {
  AgentService,
  type AgentsConfigSection,
  chatCompletionsRoutes,
  createRuntimeFromConfig,
  type ModelsConfigSection,
  type SelectedRuntime,
  type SessionConfigSection,
} from "@gateway/agent";
import { gatewayConfigSchema } from "@gateway/cli";
import {
  type CronConfigSection,
  type CronHost,
  CronService,
  type HeartbeatConfigSection,
  type HeartbeatOptions,
  HeartbeatService,
  parseDuration,
  registerCronMethods,
} from "@gateway/cron";
import { PROTOCOL_VERSION } from "@gateway/protocol";
import type { EventConsumer, RedisConfigSection } from "@gateway/redis-bridge";
import {
  attachConfig,
  ConfigError,
  ConfigManager,
  createGatewayServer,
  ensureStarterConfig,
  formatIssues,
  installShutdownSignals,
  serverOptionsFromConfig,
} from "@gateway/server";
import { writeFileAtomicSync } from "@gateway/state";
import pino from "pino";
import packageJson from "../package.json" with { type: "json" };
import { lastTarget, setUpChannels } from "./channels.js";

/** The parts of the config the agent reads. */
interface AgentConfig {
  models?: ModelsConfigSection;
  agents?: AgentsConfigSection;
  session?: SessionConfigSection;
  redis?: RedisConfigSection;
  cron?: CronConfigSection;
  heartbeat?: HeartbeatConfigSection;
  gateway?: { http?: { endpoints?: { chatCompletions?: { enabled?: boolean } } } };
}

const HELP = `gateway ${packageJson.version} — the control plane for your personal AI agent (protocol v${PROTOCOL_VERSION})

Usage: gateway [run] [options]        (gateway --help lists the other commands)

  --config <file>     the config file (env GATEWAY_CONFIG, default <state dir>/gateway.json5)
  --state-dir <dir>   where state, config and logs live (env GATEWAY_STATE_DIR, default ~/.gateway)
  --port <n>          port for HTTP and WebSocket (env GATEWAY_PORT; config gateway.port, default 18789)
  --bind <where>      loopback | lan | custom (env GATEWAY_BIND; config gateway.bind, default loopback)
  --auth <mode>       token | password | none (env GATEWAY_AUTH_MODE; none only on loopback)
  --token <secret>    the shared token (env GATEWAY_TOKEN; config gateway.auth.token)
  --password <secret> the shared password (env GATEWAY_PASSWORD)
  --verbose           debug logging (env GATEWAY_LOG_LEVEL; config logging.level)
  --json-logs         JSON log lines on stdout instead of pretty output
  --version           print the version
  --help              this help

Precedence: built-in defaults < config file < GATEWAY_* environment < these flags < changes made through the API.
The first run writes a commented starter config with a strong random token (mode 0600).
`;

function fail(message: string, code = 2): never {
  process.stderr.write(`✖ ${message}\n  Run \`gateway --help\` for the options.\n`);
  process.exit(code);
}

function flagsAsConfig(values: ReturnType<typeof parseOptions>["values"]): Record<string, unknown> {
  const gateway: Record<string, unknown> = {};
  const auth: Record<string, unknown> = {};
  if (values.port !== undefined) {
    const port = Number(values.port);
    if (!Number.isInteger(port) || port < 0 || port > 65535) fail(`--port must be 0–65535, got "${values.port}"`);
    gateway.port = port;
  }
  if (values.bind !== undefined) {
    if (values.bind === "loopback" || values.bind === "lan" || values.bind === "custom") gateway.bind = values.bind;
    else {
      gateway.bind = "custom";
      gateway.host = values.bind;
    }
  }
  if (values.auth !== undefined) auth.mode = values.auth;
  if (values.token !== undefined) auth.token = values.token;
  if (values.password !== undefined) auth.password = values.password;
  if (Object.keys(auth).length > 0) gateway.auth = auth;
  const flags: Record<string, unknown> = {};
  if (Object.keys(gateway).length > 0) flags.gateway = gateway;
  if (values.verbose) flags.logging = { level: "debug" };
  return flags;
}

function main(): void {
  let parsed: ReturnType<typeof parseOptions>;
  try {
    parsed = parseOptions();
  } catch (error) {
    fail((error as Error).message);
  }
  const { values, positionals } = parsed;
  if (values.help) {
    process.stdout.write(HELP);
    return;
  }
  if (values.version) {
    process.stdout.write(
      `gateway ${packageJson.version} (protocol v${PROTOCOL_VERSION}, Node ${process.versions.node})\n`,
    );
    return;
  }
  const command = positionals[0] ?? "run";
  const env = process.env;
  const stateDir = resolve(values["state-dir"] ?? env.GATEWAY_STATE_DIR ?? join(homedir(), ".gateway"));
  const configPath = resolve(values.config ?? env.GATEWAY_CONFIG ?? join(stateDir, "gateway.json5"));
  if (command !== "run") fail(`unknown command "${command}"`);

  mkdirSync(stateDir, { recursive: true, mode: 0o700 });
  const starter = ensureStarterConfig(configPath);
  const flags = flagsAsConfig(values);

  let manager: ConfigManager;
  try {
    manager = ConfigManager.load({
      path: configPath,
      stateDir,
      schema: gatewayConfigSchema,
      env,
      flags,
      version: packageJson.version,
      logger: pino({ level: "silent" }),
    });
  } catch (error) {
    if (error instanceof ConfigError) {
      fail(
        `the config is invalid (${error.issues.length} problem${error.issues.length === 1 ? "" : "s"}) — ${error.file}\n${formatIssues(error.issues)}\n  Fix the file (or the GATEWAY_* variable / flag named above) and start again.`,
      );
    }
    throw error;
  }

  let server: ReturnType<typeof createGatewayServer>;
  try {
    const fromConfig = serverOptionsFromConfig(manager.current.config);
    server = createGatewayServer({
      ...fromConfig,
      stateDir,
      configPath,
      version: packageJson.version,
      logging: { ...fromConfig.logging, ...(values["json-logs"] ? { json: true } : {}) },
    });
  } catch (error) {
    fail((error as Error).message);
  }
  attachConfig(server, manager);
  // The agent: the backend the config asks for (auto: pi when a model is configured, else echo, said loudly).
  const agentConfig = () => manager.current.config as AgentConfig;
  let selected: SelectedRuntime;
  try {
    selected = createRuntimeFromConfig(agentConfig(), { stateDir, env });
  } catch (error) {
    fail(`${(error as Error).message}\n  Fix the config (${configPath}) and start again.`);
  }
  const sessionSettings = (config: AgentConfig) => ({
    resetPolicy: { mode: "off" as const, ...config.session?.reset },
    resetTriggers: config.session?.resetTriggers ?? ["/new", "/reset"],
  });
  const agent = new AgentService(
    {
      registerMethod: (name, handler, methodOptions) =>
        server.registerMethod(name, handler as never, methodOptions as never),
      broadcast: (event, payload) => server.broadcast(event, payload),
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
      ...sessionSettings(agentConfig()),
    },
  );
  agent.register();
  // A new model or backend applies to the next run; running ones finish on the old. A config that cannot work is
  // refused (rolled back) with the reason.
  const applyAgentConfig = async (next: Record<string, unknown>) => {
    const fresh = createRuntimeFromConfig(next as AgentConfig, { stateDir, env });
    await agent.replaceRuntime(fresh.runtime);
    selected = fresh;
    server.refreshHealth();
  };
  manager.subscribe("agents", applyAgentConfig);
  manager.subscribe("models", applyAgentConfig);
  manager.subscribe("session", (next) => agent.configure(sessionSettings(next as AgentConfig)));
  for (const route of chatCompletionsRoutes(agent, {
    enabled: () => agentConfig().gateway?.http?.endpoints?.chatCompletions?.enabled === true,
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
  // Messaging channels: inbound messages run the agent, the reply goes back to the chat. Registered after the agent,
  // so on shutdown the channels stop taking messages before the agent stops.
  const channels = setUpChannels({ server, config: manager, agent, stateDir, configPath });
  server.addWarnings(() => (selected.warning ? [selected.warning] : []));
  // Scheduled work: cron jobs and the heartbeat run agent turns and system events through the agent service.
  const cronHost: CronHost = {
    mainSessionKey: agent.mainSessionKey,
    systemEvent: (text, options) => agent.systemEvent(text, options),
    async agentTurn(message, { sessionKey, timeoutMs }) {
      const run = await agent.send(sessionKey, message, { mode: "followup" });
      const timer = setTimeout(() => agent.lanes.abort(sessionKey, run.runId), timeoutMs);
      const outcome = await run.done.finally(() => clearTimeout(timer));
      const sessionId = agent.store.get(sessionKey)?.sessionId;
      return {
        status: outcome.stopReason === "error" ? "error" : outcome.stopReason === "aborted" ? "aborted" : "ok",
        text: outcome.text,
        runId: run.runId,
        ...(outcome.error ? { error: outcome.error } : {}),
        ...(sessionId ? { sessionId } : {}),
      };
    },
    broadcast: (event, payload) => server.broadcast(event, payload),
    log: { info: (message) => server.logger.info(message), warn: (message) => server.logger.warn(message) },
    async deliver(target, text) {
      const resolved = target === "last" ? lastTarget(agent) : { ...target, ...(target.to ? { peer: target.to } : {}) };
      if (!resolved?.peer)
        throw new Error(
          target === "last"
            ? 'no chat to deliver to yet ("last" is the chat the agent last talked in)'
            : `deliver to ${target.channel} needs to (the chat id)`,
        );
      await channels.deliver({ ...resolved, peer: resolved.peer }, text);
    },
  };
  const cronConfig = agentConfig().cron ?? {};
  const cron = new CronService({
    stateDir,
    host: cronHost,
    ...(cronConfig.maxConcurrentRuns ? { maxConcurrentRuns: cronConfig.maxConcurrentRuns } : {}),
    ...(cronConfig.catchUp ? { catchUp: cronConfig.catchUp } : {}),
    ...(cronConfig.catchUpMax ? { catchUpMax: cronConfig.catchUpMax } : {}),
    ...(cronConfig.defaultTimeoutSeconds ? { defaultTimeoutMs: cronConfig.defaultTimeoutSeconds * 1000 } : {}),
    ...(cronConfig.runLogMaxBytes ? { maxLogBytes: cronConfig.runLogMaxBytes } : {}),
    webhook: { ...(cronConfig.webhookToken ? { token: cronConfig.webhookToken } : {}) },
  });
  // The heartbeat needs a model: with the echo agent it would only repeat its own prompt.
  const heartbeatOptions = (config: AgentConfig): HeartbeatOptions => {
    const section = config.heartbeat ?? {};
    const everyMs =
      selected.backend === "echo"
        ? 0
        : section.every === undefined
          ? 30 * 60_000
          : section.every.trim() === "0"
            ? 0
            : parseDuration(section.every);
    return {
      everyMs,
      ...(section.activeHours ? { activeHours: section.activeHours } : {}),
      ...(section.target ? { target: section.target } : {}),
      ...(section.prompt ? { prompt: section.prompt } : {}),
      ...(section.ackMaxChars !== undefined ? { ackMaxChars: section.ackMaxChars } : {}),
      ...(section.watchdog ? { watchdog: section.watchdog } : {}),
      timeoutMs: selected.runTimeoutMs,
    };
  };
  const heartbeat = new HeartbeatService(
    {
      ...cronHost,
      workspace: agentConfig().agents?.defaults?.workspace ?? join(stateDir, "agents", "main", "workspace"),
      isBusy: (sessionKey) => agent.lanes.isBusy(sessionKey),
      broadcast: (event, payload) => server.broadcast(event, payload),
    },
    heartbeatOptions(agentConfig()),
  );
  registerCronMethods(
    { registerMethod: (name, handler) => server.registerMethod(name, handler as never) },
    cron,
    heartbeat,
  );
  server.registerService({
    name: "cron",
    async start() {
      if (cronConfig.enabled !== false) await cron.start();
      heartbeat.start();
    },
    stop() {
      heartbeat.stop();
      cron.stop();
    },
  });
  const applyHeartbeat = (next: Record<string, unknown>) => heartbeat.configure(heartbeatOptions(next as AgentConfig));
  manager.subscribe("heartbeat", applyHeartbeat);
  manager.subscribe("agents", applyHeartbeat);
  manager.subscribe("models", applyHeartbeat);
  server.addWarnings(() => (heartbeat.alarm ? [`heartbeat watchdog: ${heartbeat.alarm}`] : []));

  // Background events: with redis.url (or GATEWAY_REDIS_URL) this gateway is the central consumer. Each batch becomes
  // one system event in the main session (or the session its type is routed to), written before it is acknowledged.
  const redisConfig = agentConfig().redis;
  let consumer: EventConsumer | undefined;
  if (redisConfig?.url) {
    const redisUrl = redisConfig.url;
    let reported = "";
    server.registerService({
      name: "redis-bridge",
      // Loaded only when configured: a gateway without Redis never loads a Redis client.
      async start() {
        const { CENTRAL_ALIASES, EventConsumer, formatEventsPrompt, wakeModeFor } = await import(
          "@gateway/redis-bridge"
        );
        consumer = new EventConsumer({
          url: redisUrl,
          sessions: CENTRAL_ALIASES,
          ...(redisConfig.consumerId ? { consumerId: redisConfig.consumerId } : {}),
          ...(redisConfig.pollIntervalMs ? { pollIntervalMs: redisConfig.pollIntervalMs } : {}),
          ...(redisConfig.dedupeTtlSeconds ? { dedupeTtlSeconds: redisConfig.dedupeTtlSeconds } : {}),
          ...(redisConfig.batchSize ? { batchSize: redisConfig.batchSize } : {}),
          async deliver(events) {
            const current = agentConfig().redis ?? {};
            const bySession = new Map<string, typeof events>();
            for (const event of events) {
              const sessionKey = current.routes?.[event.type] ?? agent.mainSessionKey;
              bySession.set(sessionKey, [...(bySession.get(sessionKey) ?? []), event]);
            }
            for (const [sessionKey, batch] of bySession)
              await agent.systemEvent(formatEventsPrompt(batch), {
                sessionKey,
                wake: wakeModeFor(
                  batch.map((event) => event.type),
                  current.wake,
                ),
                eventIds: batch.map((event) => event.id),
              });
          },
          isDelivered: (event) =>
            agent.hasEvent(event.id, agentConfig().redis?.routes?.[event.type] ?? agent.mainSessionKey),
          onError: (error) => server.logger.debug({ err: error }, "redis bridge"),
        });
        await consumer.start().catch((error: Error) => {
          server.logger.warn({ err: error }, `redis bridge: cannot reach ${redisUrl} yet; retrying in the background`);
        });
      },
      stop: () => consumer?.stop(),
    });
    server.addWarnings(() => {
      const status = consumer?.status();
      const line =
        !status || status.state === "ready"
          ? ""
          : `redis bridge ${status.state} (${redisUrl}) since ${new Date(status.since).toISOString()}${status.lastError ? `: ${status.lastError}` : ""} — events wait in Redis and are delivered when it is back`;
      if (line !== reported) {
        reported = line;
        if (line) server.logger.warn(line);
        else server.logger.info(`redis bridge ready (${redisUrl})`);
      }
      return line ? [line] : [];
    });
  }
  installShutdownSignals(server);
  const mode = server.options.auth.mode;
  const tokenSource = values.token
    ? "--token"
    : env.GATEWAY_TOKEN
      ? "GATEWAY_TOKEN"
      : `gateway.auth.token in ${configPath}`;
  const runFile = join(stateDir, "gateway.run.json");
  server.registerService({
    name: "run-file",
    start() {},
    stop: () => rmSync(runFile, { force: true }),
  });
  server.listen().then(
    (address) => {
      // Where this gateway really listens (flags may differ from the config): the CLI reads it.
      writeFileAtomicSync(
        runFile,
        JSON.stringify({ pid: process.pid, url: address.url, version: packageJson.version, startedAt: Date.now() }),
      );
      const lines = [
        `Gateway ${packageJson.version} listening on ${address.url} (HTTP on http://${address.host}:${address.port})`,
        `  state dir  ${stateDir}`,
        `  config     ${configPath}${starter ? " (new: a commented starter config, mode 0600)" : ""}`,
        mode === "token"
          ? starter && !values.token && !env.GATEWAY_TOKEN
            ? `  auth       token, generated and saved in the config: ${starter.token}`
            : `  auth       token (from ${tokenSource})`
          : `  auth       ${mode}`,
        "  not yet    each is optional; the gateway runs without them:",
        selected.warning
          ? "             model    none: the echo agent answers (set models.providers + agents.defaults.model, or OPENAI_API_KEY)"
          : `             agent    ${selected.summary}`,
        channelsLine(agentConfig() as { channels?: Record<string, unknown> }),
        redisConfig?.url
          ? `             redis    background events from ${redisConfig?.url} (agent:events:gateway) go to the main session`
          : "             redis    off: set GATEWAY_REDIS_URL (or redis.url) to bring background events into the agent",
        `  cron       ${cron.status().jobs} job(s) in ${cron.store.jobsPath} (gateway cron add --every 1h --message …)`,
        heartbeat.enabled
          ? `  heartbeat  every ${formatInterval(heartbeatOptions(agentConfig()).everyMs)} (checklist: HEARTBEAT.md in the agent workspace)`
          : "  heartbeat  off (it needs a model; heartbeat.every sets the interval)",
        "  reload     edits to the config apply while running (see gateway.reload)",
        "  stop       Ctrl-C (twice to force)",
      ];
      process.stdout.write(`${lines.join("\n")}\n`);
    },
    (error: Error) => {
      process.stderr.write(`✖ ${error.message}\n`);
      process.exit(1);
    },
  );
}

/** The banner's channels line: what is configured, or how to add one. */
function channelsLine(config: { channels?: Record<string, unknown> }): string {
  const names = Object.keys(config.channels ?? {});
  return names.length
    ? `  channels   ${names.join(", ")} (gateway channels status; unknown senders get a pairing code: gateway pairing list)`
    : "             channels none (create a bot with @BotFather, then set channels.telegram.botToken in the config)";
}

/** `30 min`, `90 s`. */
function formatInterval(ms: number): string {
  return ms % 60_000 === 0 ? `${ms / 60_000} min` : `${Math.round(ms / 1000)} s`;
}

function parseOptions() {
  return parseArgs({
    allowPositionals: true,
    options: {
      config: { type: "string" },
      port: { type: "string" },
      bind: { type: "string" },
      auth: { type: "string" },
      token: { type: "string" },
      password: { type: "string" },
      "state-dir": { type: "string" },
      verbose: { type: "boolean" },
      "json-logs": { type: "boolean" },
      version: { type: "boolean" },
      help: { type: "boolean", short: "h" },
    },
  });
}

main();
