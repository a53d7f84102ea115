import { readFileSync } from "node:fs";
import type { OperatorScope } from "@gateway/protocol";
import type { GatewayServer } from "../gateway-server.js";
import type { GatewayServerOptions } from "../options.js";
import { ensureGeneratedCertificate } from "../tls/generated-certificate.js";
import type { ConfigManager } from "./config-manager.js";
import { formatIssues } from "./errors.js";
import { isObject } from "./read-config-file.js";
import { lookupConfigSchema } from "./schema-lookup.js";

const section = (config: Record<string, unknown>, name: string): Record<string, unknown> =>
  isObject(config[name]) ? (config[name] as Record<string, unknown>) : {};

/**
 * What the `gateway` and `logging` sections mean for the server (defaults applied). `gateway.tls.autoGenerate` makes
 * (once) and reads the self-signed pair in `<stateDir>/tls/`.
 */
export function serverOptionsFromConfig(
  config: Record<string, unknown>,
  context: { stateDir?: string } = {},
): GatewayServerOptions {
  const gateway = section(config, "gateway");
  const auth = section(gateway, "auth");
  const logging = section(config, "logging");
  const controlUi = section(gateway, "controlUi");
  const tls = section(gateway, "tls");
  let tlsFiles: { cert: Buffer; key: Buffer } | undefined;
  if (tls.enabled === true && tls.autoGenerate === true && tls.certPath === undefined && tls.keyPath === undefined) {
    if (!context.stateDir)
      throw new Error("gateway.tls.autoGenerate needs the gateway's state dir to keep the pair in");
    const generated = ensureGeneratedCertificate(context.stateDir);
    tlsFiles = { cert: generated.cert, key: generated.key };
  } else if (tls.enabled === true) {
    const read = (key: "certPath" | "keyPath") => {
      const file = tls[key];
      if (typeof file !== "string")
        throw new Error(
          `gateway.tls.enabled is true but gateway.tls.${key} is not set (or set gateway.tls.autoGenerate: true, without certPath/keyPath, for a self-signed pair)`,
        );
      try {
        return readFileSync(file);
      } catch (error) {
        throw new Error(`gateway.tls.${key}: cannot read ${file} (${(error as NodeJS.ErrnoException).code ?? error})`);
      }
    };
    tlsFiles = { cert: read("certPath"), key: read("keyPath") };
  }
  const bind = (gateway.bind as string | undefined) ?? "loopback";
  const host = bind === "loopback" ? "127.0.0.1" : bind === "lan" ? "0.0.0.0" : (gateway.host as string | undefined);
  if (!host)
    throw new Error('gateway.bind is "custom" but gateway.host is not set: set gateway.host to the address to bind');
  return {
    host,
    port: (gateway.port as number | undefined) ?? 18789,
    auth: {
      mode: (auth.mode as "token" | "password" | "none" | undefined) ?? "token",
      ...(typeof auth.token === "string" ? { token: auth.token } : {}),
      ...(typeof auth.password === "string" ? { password: auth.password } : {}),
    },
    allowedOrigins: (controlUi.allowedOrigins as string[] | undefined) ?? [],
    allowedHosts: (gateway.allowedHosts as string[] | undefined) ?? [],
    trustedProxies: (gateway.trustedProxies as string[] | undefined) ?? [],
    ...(Array.isArray(controlUi.authNoneScopes)
      ? { authNoneBrowserScopes: controlUi.authNoneScopes as OperatorScope[] }
      : {}),
    controlUi: {
      enabled: controlUi.enabled !== false,
      ...(typeof controlUi.basePath === "string" ? { basePath: controlUi.basePath } : {}),
    },
    ...(tlsFiles ? { tls: tlsFiles } : {}),
    ...limitsFromConfig(gateway),
    logging: {
      level: (logging.level as string | undefined) ?? "info",
      ...(typeof logging.file === "string" ? { file: logging.file } : {}),
    },
  };
}

/** `gateway.limits` (and the older `gateway.handshakeTimeoutMs`) as server options; unset ones keep their defaults. */
function limitsFromConfig(gateway: Record<string, unknown>): GatewayServerOptions {
  const limits = section(gateway, "limits");
  const auth = section(limits, "auth");
  const numbers: Array<[keyof GatewayServerOptions, unknown]> = [
    ["handshakeTimeoutMs", limits.handshakeTimeoutMs ?? gateway.handshakeTimeoutMs],
    ["maxPendingPerAddress", limits.maxPendingPerAddress],
    ["maxPendingTotal", limits.maxPendingTotal],
    ["maxConnectionsPerAddress", limits.maxConnectionsPerAddress],
    ["maxPreHandshakeBytes", limits.maxPreHandshakeBytes],
    ["maxPayload", limits.maxPayload],
    ["maxBufferedBytes", limits.maxBufferedBytes],
    ["requestTimeoutMs", limits.requestTimeoutMs],
    ["authMaxFailures", auth.maxFailures],
    ["authWindowMs", auth.windowMs],
    ["authLockoutMs", auth.lockoutMs],
  ];
  return Object.fromEntries(numbers.filter(([, value]) => typeof value === "number")) as GatewayServerOptions;
}

/** The server settings a config edit changes in place (everything but host, port, auth mode, TLS and origins). */
const LIVE_SETTINGS = [
  "handshakeTimeoutMs",
  "maxPendingPerAddress",
  "maxPendingTotal",
  "maxConnectionsPerAddress",
  "maxPreHandshakeBytes",
  "maxPayload",
  "maxBufferedBytes",
  "requestTimeoutMs",
  "authMaxFailures",
  "authWindowMs",
  "authLockoutMs",
] as const satisfies ReadonlyArray<keyof GatewayServerOptions>;

/**
 * Connect a ConfigManager to a server: the `config.*` methods, hot application of the server's own sections,
 * in-process listener restarts for restart-only paths, `config.changed` / `config.error` events, a health/status
 * warning while an edit is refused, and the file watcher as a service.
 */
export function attachConfig(
  server: GatewayServer,
  manager: ConfigManager,
  options: { restartExpectedMs?: number } = {},
) {
  manager.useLogger(server.logger);
  server.registerMethod("config.get", () => manager.get());
  server.registerMethod("config.schema", () => manager.schema());
  server.registerMethod("config.schema.lookup", (params) => lookupConfigSchema(manager.schema(), params.path));
  server.registerMethod("config.set", (params) => manager.write("set", params.raw, params.baseHash));
  server.registerMethod("config.patch", (params) => manager.write("patch", params.raw, params.baseHash));
  server.registerMethod("config.apply", (params) => manager.write("apply", params.raw, params.baseHash));

  manager.subscribe("gateway", (next) => {
    const wanted = serverOptionsFromConfig(next, { stateDir: server.options.stateDir });
    // Only what changes in place; a new auth mode, host or port waits for the listener restart.
    if (wanted.auth?.mode !== server.options.auth.mode) return;
    // A limit removed from the config goes back to its default (undefined in the merged input means "default").
    const limits = Object.fromEntries(LIVE_SETTINGS.map((key) => [key, wanted[key]]));
    server.updateSettings({ auth: wanted.auth, ...limits } as GatewayServerOptions);
  });
  manager.subscribe("logging", (next) => {
    server.updateSettings({
      logging: { level: serverOptionsFromConfig(next, { stateDir: server.options.stateDir }).logging?.level ?? "info" },
    });
  });
  const restartExpectedMs = options.restartExpectedMs ?? 1_000;
  manager.setRestartHandler(async (next) => {
    const wanted = serverOptionsFromConfig(next, { stateDir: server.options.stateDir });
    // After the current request has been answered: the caller of config.apply gets its result first.
    setTimeout(() => {
      server.restartListener(wanted, restartExpectedMs).catch((error: unknown) => {
        server.logger.error({ err: error }, "listener restart failed; the old listener is back");
      });
    }, 20).unref();
  });
  manager.onChange((change) => server.broadcast("config.changed", change));
  manager.onError((error) => {
    server.broadcast("config.error", {
      path: error.file,
      ts: Date.now(),
      issues: error.issues.map((issue) => ({
        path: issue.path,
        message: issue.message,
        ...(issue.hint ? { hint: issue.hint } : {}),
      })),
    });
    server.refreshHealth();
  });
  manager.onRecovered(() => server.refreshHealth());
  server.addWarnings(() =>
    manager.lastError
      ? [`config edit refused, the last good config keeps running:\n${formatIssues(manager.lastError.issues)}`]
      : [],
  );
  server.registerService({ name: "config-watcher", start: () => manager.watch(), stop: () => manager.close() });
}
