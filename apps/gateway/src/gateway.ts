// The gateway command (bundled into dist/gateway.js and loaded by dist/main.js). It runs the gateway in the foreground
// on its embedded defaults: no Redis, no channels, no model key needed. Flags and GATEWAY_* variables set everything.
import { randomBytes } from "node:crypto";
import { mkdirSync } from "node:fs";
import { homedir } from "node:os";
import { join, resolve } from "node:path";
import { parseArgs } from "node:util";
import { PROTOCOL_VERSION } from "@gateway/protocol";
import { createGatewayServer, installShutdownSignals } from "@gateway/server";
import packageJson from "../package.json" with { type: "json" };

const HELP = `gateway ${packageJson.version} — the control plane for your personal AI agent (protocol v${PROTOCOL_VERSION})

Usage: gateway [run] [options]

  --port <n>          port for HTTP and WebSocket (env GATEWAY_PORT, default 18789; 0 picks a free one)
  --bind <where>      loopback | lan | an address (env GATEWAY_BIND, default loopback)
  --auth <mode>       token | password | none (env GATEWAY_AUTH_MODE, default token; none only on loopback)
  --token <secret>    the shared token (env GATEWAY_TOKEN; generated for this run when absent)
  --password <secret> the shared password (env GATEWAY_PASSWORD)
  --state-dir <dir>   where state and logs live (env GATEWAY_STATE_DIR, default ~/.gateway)
  --verbose           debug logging (env GATEWAY_LOG_LEVEL)
  --json-logs         JSON log lines on stdout instead of pretty output
  --version           print the version
  --help              this help
`;

function fail(message: string): never {
  process.stderr.write(`✖ ${message}\n  Run \`gateway --help\` for the options.\n`);
  process.exit(2);
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
  const portText = values.port ?? env.GATEWAY_PORT ?? "18789";
  const port = Number(portText);
  if (!Number.isInteger(port) || port < 0 || port > 65535) fail(`--port must be 0–65535, got "${portText}"`);
  const bind = values.bind ?? env.GATEWAY_BIND ?? "loopback";
  const host = bind === "loopback" ? "127.0.0.1" : bind === "lan" ? "0.0.0.0" : bind;
  const mode = values.auth ?? env.GATEWAY_AUTH_MODE ?? "token";
  if (mode !== "token" && mode !== "password" && mode !== "none")
    fail(`--auth must be token, password or none, got "${mode}"`);
  let token = values.token ?? env.GATEWAY_TOKEN;
  const generatedToken = mode === "token" && !token;
  if (generatedToken) token = randomBytes(24).toString("base64url");
  const password = values.password ?? env.GATEWAY_PASSWORD;
  const stateDir = resolve(values["state-dir"] ?? env.GATEWAY_STATE_DIR ?? join(homedir(), ".gateway"));
  mkdirSync(stateDir, { recursive: true, mode: 0o700 });

  let server: ReturnType<typeof createGatewayServer>;
  try {
    server = createGatewayServer({
      host,
      port,
      auth: { mode, ...(token ? { token } : {}), ...(password ? { password } : {}) },
      stateDir,
      version: packageJson.version,
      logging: {
        level: values.verbose ? "debug" : (env.GATEWAY_LOG_LEVEL ?? "info"),
        ...(values["json-logs"] ? { json: true } : {}),
      },
    });
  } catch (error) {
    fail((error as Error).message);
  }
  server.addWarnings(() => [
    "no channels configured — channel packages (Telegram, WhatsApp, Discord, Slack) plug in with the next releases",
    "no model configured — the agent runtime arrives with @gateway/agent; set OPENAI_API_KEY then",
  ]);
  installShutdownSignals(server);
  server.listen().then(
    (address) => {
      const lines = [
        `Gateway ${packageJson.version} listening on ${address.url} (HTTP on http://${address.host}:${address.port})`,
        `  state dir  ${stateDir}`,
        mode === "token"
          ? generatedToken
            ? `  auth       token, generated for this run: ${token}\n             set GATEWAY_TOKEN (or --token) to keep one across restarts`
            : "  auth       token (from --token / GATEWAY_TOKEN)"
          : `  auth       ${mode}`,
        "  missing    channels and a model: the gateway runs without them; status and health list what to add",
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

function parseOptions() {
  return parseArgs({
    allowPositionals: true,
    options: {
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
