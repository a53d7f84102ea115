// The gateway command (bundled into dist/gateway.js and loaded by dist/main.js): reads argv and the environment, then
// runs `createGateway` in the foreground on its embedded defaults — no Redis, no channels, no model key needed.
import { parseArgs } from "node:util";
import {
  createGateway,
  fallbackModelFromEnvironment,
  type Gateway,
  type GatewayDescription,
  gatewayPaths,
} from "@gateway/gateway";
import type { ChannelPlugin } from "@gateway/plugin-sdk";
import { PROTOCOL_VERSION } from "@gateway/protocol";
import { ConfigError, type ConfigLayer, formatIssues } from "@gateway/server";
import { StateError } from "@gateway/state";
import packageJson from "../package.json" with { type: "json" };
import { installShutdownSignals } from "./signals.js";

const HELP = `gateway ${packageJson.version} — the control plane for your personal AI agent (protocol v${PROTOCOL_VERSION})

Usage: gateway [run] [options]        (npm start -- [options] from a clone; gateway help lists the other commands)

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

/** The flags as a config layer over the file and the environment. */
function flagsLayer(values: ReturnType<typeof parseOptions>["values"]): ConfigLayer {
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
  const config: Record<string, unknown> = {};
  if (Object.keys(gateway).length > 0) config.gateway = gateway;
  if (values.verbose) config.logging = { level: "debug" };
  return { source: "command-line flags", config };
}

/** Built-in channels ship as bundles next to this one, imported by URL only when configured (grammY stays out). */
async function loadBuiltinChannel(id: string): Promise<ChannelPlugin> {
  const module = (await import(new URL(`./channel-${id}.js`, import.meta.url).href)) as { plugin: ChannelPlugin };
  return module.plugin;
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
  if (command !== "run") fail(`unknown command "${command}"`);
  const env = process.env;
  const { stateDir, configPath } = gatewayPaths({ stateDir: values["state-dir"], config: values.config }, env);
  const flags = flagsLayer(values);
  const fallbackModel = fallbackModelFromEnvironment(env);

  let gateway: Gateway;
  try {
    gateway = createGateway({
      stateDir,
      configPath,
      env,
      flags,
      ...(fallbackModel ? { fallbackModel } : {}),
      version: packageJson.version,
      ...(values["json-logs"] ? { logging: { json: true } } : {}),
      loadBuiltinChannel,
    });
  } catch (error) {
    if (error instanceof ConfigError)
      fail(
        `the config is invalid (${error.issues.length} problem${error.issues.length === 1 ? "" : "s"}) — ${error.file}\n${formatIssues(error.issues)}\n  Fix the file (or the GATEWAY_* variable / flag named above) and start again.`,
      );
    if (StateError.isInstance(error)) fail(error.message, 1);
    fail((error as Error).message);
  }
  installShutdownSignals(gateway);
  const tokenSource = values.token ? "--token" : env.GATEWAY_TOKEN ? "GATEWAY_TOKEN" : undefined;
  gateway.listen().then(
    (address) => process.stdout.write(banner(gateway.describe(), address, tokenSource)),
    (error: Error) => {
      process.stderr.write(`✖ ${error.message}\n`);
      process.exit(1);
    },
  );
}

/** What the first screen says: where it listens, where its files are, and what is missing and how to add it. */
function banner(
  gateway: GatewayDescription,
  address: { url: string; host: string; port: number; tlsFingerprint?: string },
  tokenSource: string | undefined,
): string {
  const auth =
    gateway.authMode !== "token"
      ? `  auth       ${gateway.authMode}`
      : gateway.starterToken && !tokenSource
        ? `  auth       token, generated and saved in the config (gateway.auth.token, mode 0600); clients on this machine read it from there`
        : `  auth       token (from ${tokenSource ?? `gateway.auth.token in ${gateway.configPath}`})`;
  // What runs is listed by name; only what is missing goes under "not yet", each with how to add it.
  const missing: string[] = [];
  const running: string[] = [];
  if (gateway.agent.warning)
    missing.push(
      "model    none: the echo agent answers (set models.providers + agents.defaults.model, or OPENAI_API_KEY)",
    );
  else running.push(`  agent      ${gateway.agent.summary}`);
  if (gateway.channels.length)
    running.push(
      `  channels   ${gateway.channels.join(", ")} (gateway channels status; unknown senders get a pairing code: gateway pairing list)`,
    );
  else missing.push("channels none (create a bot with @BotFather, then set channels.telegram.botToken in the config)");
  if (gateway.redisUrl)
    running.push(
      `  redis      background events from ${gateway.redisUrl} (agent:events:gateway) go to the main session`,
    );
  else missing.push("redis    off: set GATEWAY_REDIS_URL (or redis.url) to bring background events into the agent");
  const lines = [
    `Gateway ${packageJson.version} listening on ${address.url} (HTTP${address.tlsFingerprint ? "S" : ""} on ${address.url.replace(/^ws/, "http")})`,
    ...(address.tlsFingerprint
      ? [
          `  tls        certificate SHA-256 ${address.tlsFingerprint} (clients pin it: --tls-fingerprint ${address.tlsFingerprint})`,
        ]
      : []),
    `  state dir  ${gateway.stateDir}`,
    `  config     ${gateway.configPath}${gateway.starterToken ? " (new: a commented starter config, mode 0600)" : ""}`,
    ...gateway.notices.map((notice) => `  !          ${notice}`),
    auth,
    ...(gateway.controlUi.enabled
      ? [
          `  control ui ${address.url.replace(/^ws/, "http")}${gateway.controlUi.basePath} in a browser (\`gateway status\` prints the link that signs you in)`,
        ]
      : []),
    ...running,
    `  cron       ${gateway.cron.jobs} job(s) in ${gateway.cron.path} (gateway cron add --name digest --every 1h --message "anything new?")`,
    gateway.heartbeatEveryMs > 0
      ? `  heartbeat  every ${formatInterval(gateway.heartbeatEveryMs)} (checklist: HEARTBEAT.md in the agent workspace)`
      : "  heartbeat  off (it needs a model; heartbeat.every sets the interval)",
    ...(missing.length > 0
      ? [
          "  not yet    each is optional; the gateway runs without them:",
          ...missing.map((line) => `             ${line}`),
        ]
      : []),
    "  reload     edits to the config apply while running (see gateway.reload)",
    "  stop       Ctrl-C (twice to force)",
  ];
  return `${lines.join("\n")}\n`;
}

/** `30 min`, `90 s`. */
function formatInterval(ms: number): string {
  return ms % 60_000 === 0 ? `${ms / 60_000} min` : `${Math.round(ms / 1000)} s`;
}

main();
