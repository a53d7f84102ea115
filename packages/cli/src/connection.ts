import { readFileSync } from "node:fs";
import { homedir } from "node:os";
import { join, resolve } from "node:path";
import { agentConfigSections } from "@gateway/agent";
import { createGatewayClient, type GatewayClient, GatewayClientError } from "@gateway/client";
import { cronConfigSections } from "@gateway/cron/config";
import { RedisConfigSection } from "@gateway/redis-bridge/config";
import {
  ConfigError,
  channelsConfigSections,
  composeConfigSchema,
  formatIssues,
  loadConfig,
  serverConfigSections,
} from "@gateway/server/config";
import { CliError, type CliIo, ExitCode, type GlobalFlags } from "./context.js";

/** The local state dir and config file, from flags, GATEWAY_STATE_DIR / GATEWAY_CONFIG, or the defaults. */
export function localPaths(global: GlobalFlags, env: CliIo["env"]): { stateDir: string; configPath: string } {
  const stateDir = resolve(global.stateDir ?? env.GATEWAY_STATE_DIR ?? join(homedir(), ".gateway"));
  const configPath = resolve(global.config ?? env.GATEWAY_CONFIG ?? join(stateDir, "gateway.json5"));
  return { stateDir, configPath };
}

/** The URL in `<stateDir>/gateway.run.json` when the process that wrote it is still alive. */
export function runningGatewayUrl(stateDir: string): string | undefined {
  try {
    const run = JSON.parse(readFileSync(join(stateDir, RUN_FILE), "utf8")) as { pid?: number; url?: string };
    if (typeof run.pid !== "number" || typeof run.url !== "string") return undefined;
    process.kill(run.pid, 0); // throws when the process is gone
    return run.url;
  } catch {
    return undefined;
  }
}

/** The file a running gateway writes in its state dir: `{pid, url, version, startedAt}`. */
export const RUN_FILE = "gateway.run.json";

/** The whole config schema: the sections each package owns. The gateway runs with it and the CLI validates with it. */
export const gatewayConfigSchema = composeConfigSchema({
  ...serverConfigSections,
  ...agentConfigSections,
  redis: RedisConfigSection,
  ...cronConfigSections,
  ...channelsConfigSections,
});

/** Where to connect and with what: flags, then GATEWAY_URL / GATEWAY_TOKEN / GATEWAY_PASSWORD, then the local config. */
export function resolveConnection(global: GlobalFlags, io: CliIo): { url: string; token?: string; password?: string } {
  const env = io.env;
  // Empty variables count as unset.
  let url = global.url || env.GATEWAY_URL || undefined;
  let token = global.token || env.GATEWAY_TOKEN || undefined;
  let password = global.password || env.GATEWAY_PASSWORD || undefined;
  if (!url || (!token && !password)) {
    const { stateDir, configPath } = localPaths(global, env);
    // A running gateway records where it actually listens (flags may differ from the config).
    url ??= runningGatewayUrl(stateDir);
    try {
      const { config } = loadConfig({ path: configPath, stateDir, schema: gatewayConfigSchema, env });
      const gateway = (config.gateway ?? {}) as {
        port?: number;
        bind?: string;
        host?: string;
        tls?: { enabled?: boolean };
        auth?: { token?: string; password?: string };
      };
      const host = gateway.bind === "custom" && gateway.host ? gateway.host : "127.0.0.1";
      url ??= `${gateway.tls?.enabled ? "wss" : "ws"}://${host.includes(":") ? `[${host}]` : host}:${gateway.port ?? 18789}`;
      token ??= gateway.auth?.token;
      password ??= gateway.auth?.password;
    } catch (error) {
      if (!(error instanceof ConfigError)) throw error;
      throw new CliError(
        `the local config is invalid, so the CLI cannot tell where the gateway is:\n${formatIssues(error.issues)}\nfix it (gateway config validate) or pass --url and --token`,
      );
    }
  }
  return { url: url!, ...(token ? { token } : {}), ...(password ? { password } : {}) };
}

/** A one-shot client (no reconnect) connected to the gateway, or a CliError saying what to do. */
export async function connectClient(global: GlobalFlags, io: CliIo): Promise<GatewayClient> {
  const target = resolveConnection(global, io);
  const client = createGatewayClient({
    ...target,
    reconnect: false,
    requestTimeoutMs: global.timeoutMs,
    client: { id: "cli", mode: "cli", version: "0.1.0" },
  });
  try {
    await client.ready();
  } catch (error) {
    client.close();
    throw asCliError(error);
  }
  return client;
}

/** Turn a client error into the CLI's message and exit code. */
export function asCliError(error: unknown): CliError {
  if (error instanceof CliError) return error;
  if (GatewayClientError.isInstance(error)) {
    const code =
      error.code === "UNREACHABLE" || error.code === "DISCONNECTED" || error.code === "TIMEOUT"
        ? ExitCode.unreachable
        : ExitCode.failed;
    return new CliError(`${error.message}${error.detailCode ? ` [${error.detailCode}]` : ` [${error.code}]`}`, code);
  }
  return new CliError((error as Error)?.message ?? String(error));
}
