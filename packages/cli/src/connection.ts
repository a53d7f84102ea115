import { readFileSync } from "node:fs";
import { createGatewayClient, type GatewayClient, GatewayClientError } from "@gateway/client";
import { gatewayPaths } from "@gateway/gateway/config";
import { certificateFingerprint, generatedCertificatePaths } from "@gateway/server";
import { readStateLock, STATE_LOCK_FILE } from "@gateway/state";
import { CliError, type CliIo, ExitCode, type GlobalFlags } from "./context.js";
import { type LocalConfig, readLocalConfig } from "./local-config.js";

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
export function resolveConnection(
  global: GlobalFlags,
  io: CliIo,
  local: () => LocalConfig = () => readLocalConfig(localPaths(global, io.env), io.env),
): { url: string; token?: string; password?: string; tlsFingerprint?: string } {
  const env = io.env;
  // Empty variables count as unset.
  let url = global.url || env.GATEWAY_URL || undefined;
  let token = global.token || env.GATEWAY_TOKEN || undefined;
  let password = global.password || env.GATEWAY_PASSWORD || undefined;
  let tlsFingerprint = global.tlsFingerprint || env.GATEWAY_TLS_FINGERPRINT || undefined;
  const named = url;
  if (!url || (!token && !password)) {
    const { stateDir } = localPaths(global, env);
    // A running gateway records where it actually listens (flags may differ from the config).
    url ??= runningGatewayUrl(stateDir);
    // Only the `gateway` section is read here; a problem elsewhere in the file is a warning, not a refusal.
    const gateway = (local().config.gateway ?? {}) as {
      port?: unknown;
      bind?: unknown;
      host?: unknown;
      tls?: { enabled?: unknown };
      auth?: { token?: unknown; password?: unknown };
    };
    const port = typeof gateway.port === "number" ? gateway.port : 18789;
    const host = gateway.bind === "custom" && typeof gateway.host === "string" ? gateway.host : "127.0.0.1";
    url ??= `${gateway.tls?.enabled === true ? "wss" : "ws"}://${host.includes(":") ? `[${host}]` : host}:${port}`;
    if (typeof gateway.auth?.token === "string") token ??= gateway.auth.token;
    if (typeof gateway.auth?.password === "string") password ??= gateway.auth.password;
  }
  // The local gateway's own generated certificate is pinned from its file: nothing to type on this machine.
  if (!tlsFingerprint && url?.startsWith("wss:")) {
    const { stateDir } = localPaths(global, env);
    const tls = ((local().config.gateway ?? {}) as { tls?: { enabled?: unknown; autoGenerate?: unknown } }).tls;
    const isLocal = !named || named === runningGatewayUrl(stateDir);
    if (isLocal && tls?.enabled === true && tls.autoGenerate === true)
      tlsFingerprint = localCertificateFingerprint(stateDir);
  }
  return {
    url: url!,
    ...(token ? { token } : {}),
    ...(password ? { password } : {}),
    ...(tlsFingerprint && url!.startsWith("wss:") ? { tlsFingerprint } : {}),
  };
}

/** The fingerprint of the certificate `gateway.tls.autoGenerate` made in the state dir, if it exists yet. */
function localCertificateFingerprint(stateDir: string): string | undefined {
  try {
    return certificateFingerprint(readFileSync(generatedCertificatePaths(stateDir).certPath));
  } catch {
    return undefined;
  }
}

/** A one-shot client (no reconnect) connected to the gateway, or a CliError saying what to do. */
export async function connectClient(
  global: GlobalFlags,
  io: CliIo,
  local?: () => LocalConfig,
  options: { onLost?: () => void; scopes?: readonly string[] } = {},
): Promise<GatewayClient> {
  const target = resolveConnection(global, io, local);
  let opened = false;
  let closing = false;
  let client: GatewayClient;
  try {
    client = createGatewayClient({
      ...target,
      onStateChange(state) {
        if (state === "open") opened = true;
        if (state === "closed" && opened && !closing) options.onLost?.();
      },
      reconnect: false,
      requestTimeoutMs: global.timeoutMs,
      client: { id: "cli", mode: "cli", version: "0.1.0" },
      // An explicit list, always (an omitted one grants nothing, here and on the reference): what the command needs.
      ...(options.scopes ? { scopes: [...options.scopes] } : {}),
    });
  } catch (error) {
    // A malformed --tls-fingerprint: a usage error.
    throw new CliError((error as Error).message.replace(/^tlsFingerprint/, "--tls-fingerprint"), ExitCode.usage);
  }
  const close = client.close.bind(client);
  client.close = () => {
    closing = true;
    close();
  };
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

/**
 * Connected to the gateway, or undefined when none answers here and no URL was named (so the files in the state dir
 * are the truth: commands that can, read or edit them instead).
 */
export async function connectIfRunning(context: {
  connect(): Promise<GatewayClient>;
  global: GlobalFlags;
  io: CliIo;
}): Promise<GatewayClient | undefined> {
  try {
    return await context.connect();
  } catch (error) {
    const named = Boolean(context.global.url || context.io.env.GATEWAY_URL);
    if (CliError.isInstance(error) && error.exitCode === ExitCode.unreachable && !named) return undefined;
    throw error;
  }
}
