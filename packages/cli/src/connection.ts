import { createGatewayClient, type GatewayClient, GatewayClientError } from "@gateway/client";
import { gatewayPaths, loadGatewayConfig } from "@gateway/gateway/config";
import { ConfigError, formatIssues } from "@gateway/server/config";
import { readStateLock, STATE_LOCK_FILE } from "@gateway/state";
import { CliError, type CliIo, ExitCode, type GlobalFlags } from "./context.js";

/** The local state dir and config file, from flags, GATEWAY_STATE_DIR / GATEWAY_CONFIG, or the defaults. */
export function localPaths(global: GlobalFlags, env: CliIo["env"]): { stateDir: string; configPath: string } {
  return gatewayPaths({ stateDir: global.stateDir, config: global.config }, env);
}

/** The URL a running gateway recorded in its state dir's lock file, when the process that wrote it is alive. */
export function runningGatewayUrl(stateDir: string): string | undefined {
  const lock = readStateLock(stateDir);
  if (!lock?.url) return undefined;
  try {
    process.kill(lock.pid, 0); // throws when the process is gone
    return lock.url;
  } catch {
    return undefined;
  }
}

/** The file a running gateway keeps in its state dir: `{pid, url, version, startedAt}` (also its lock). */
export const RUN_FILE = STATE_LOCK_FILE;

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
      const { config } = loadGatewayConfig({ configPath, stateDir, env });
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
