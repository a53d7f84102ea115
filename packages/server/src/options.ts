import type { AuthMode, OperatorScope } from "@gateway/protocol";
import type { Logger } from "pino";
import type { ConnectStage } from "./connect-pipeline.js";
import { isLoopback } from "./front-door.js";

export { isLoopback } from "./front-door.js";

/** How clients authenticate. `none` is refused unless the gateway binds to a loopback address. */
export interface AuthOptions {
  /** @default "token" */
  mode: AuthMode;
  token?: string;
  password?: string;
}

/** Options of `createGatewayServer`. Every field has a production default; tests pass `port: 0`. */
export interface GatewayServerOptions {
  /** Address to bind. @default "127.0.0.1" */
  host?: string;
  /** Port; 0 picks a free one. @default 18789 */
  port?: number;
  auth?: AuthOptions;
  /** Browser origins (exact `scheme://host:port`) allowed besides the gateway's own. @default [] */
  allowedOrigins?: string[];
  /**
   * Host names (the `Host` header) the gateway answers to besides IP literals, `localhost`, this machine's name and
   * the allowed origins' hosts; `.example.com` also matches subdomains. Other names are refused (DNS rebinding).
   * @default []
   */
  allowedHosts?: string[];
  /**
   * Addresses of reverse proxies whose forwarded headers (`Forwarded`, `X-Forwarded-For`, `X-Real-IP`) are accepted;
   * a request carrying them from anyone else is refused (403). A proxied request is never treated as local.
   * @default []
   */
  trustedProxies?: string[];
  /** Scopes a browser (a connection with an `Origin`) gets when auth mode is `none`. @default ["operator.read"] */
  authNoneBrowserScopes?: OperatorScope[];
  /** Close a connection that has not completed `connect` within this time. @default 5000 */
  handshakeTimeoutMs?: number;
  /** Largest frame before the handshake. @default 65536 */
  maxPreHandshakeBytes?: number;
  /** Largest frame after the handshake (`policy.maxPayload`). @default 26214400 */
  maxPayload?: number;
  /** Outbound backlog at which a client is closed as a slow consumer (`policy.maxBufferedBytes`). @default 52428800 */
  maxBufferedBytes?: number;
  /** Backlog above which drop-if-slow events are skipped for a client. @default min(1 MiB, maxBufferedBytes / 2) */
  slowThresholdBytes?: number;
  /** `tick` interval (`policy.tickIntervalMs`). @default 30000 */
  tickIntervalMs?: number;
  /** Connections that completed the handshake, per remote address. @default 256 */
  maxConnectionsPerAddress?: number;
  /** Sockets waiting for their handshake, per remote address (a newcomer evicts the oldest). @default 16 */
  maxPendingPerAddress?: number;
  /** Sockets waiting for their handshake, from everywhere. @default 1024 */
  maxPendingTotal?: number;
  /** Failed auth attempts per address within `authWindowMs` before a lockout. @default 10 */
  authMaxFailures?: number;
  /** @default 60000 */
  authWindowMs?: number;
  /** @default 300000 */
  authLockoutMs?: number;
  /** A method handler that has not answered by then fails with UNAVAILABLE. @default 30000 */
  requestTimeoutMs?: number;
  /** How long `close()` lets in-flight requests finish. @default 30000 */
  shutdownTimeoutMs?: number;
  /** How long `(method, idempotencyKey)` results are kept. @default 300000 */
  idempotencyTtlMs?: number;
  /** @default 1000 */
  idempotencyMaxEntries?: number;
  /** Presence entries expire this long after their last update. @default 300000 */
  presenceTtlMs?: number;
  /** The entry of a client that disconnected cleanly goes this soon. @default 30000 */
  presenceDepartedTtlMs?: number;
  /** Presence entries kept (oldest dropped first). @default 200 */
  presenceMaxEntries?: number;
  /** Presence traffic budget during a storm of changes, for all readers together. @default 1048576 */
  presenceBytesPerSecond?: number;
  /** Health is recomputed and broadcast this often. @default 60000 */
  healthIntervalMs?: number;
  /** Serve `/metrics` without auth. @default false */
  metricsPublic?: boolean;
  /** Version reported in `hello-ok`, `health` and `status`. */
  version?: string;
  /** State directory, shown in the snapshot; the log file defaults to `<stateDir>/logs/gateway.log`. */
  stateDir?: string;
  configPath?: string;
  /** A pino logger; by default one is created from `logging`. */
  logger?: Logger;
  logging?: { level?: string; file?: string | false; pretty?: boolean; json?: boolean; stdout?: boolean };
  /** Serve HTTPS and `wss://` on the same port with this certificate and key (PEM). */
  tls?: { cert: string | Buffer; key: string | Buffer };
  /** Extra stages of the connect pipeline (device identity and pairing plug in here). */
  connectStages?: { beforeAuth?: ConnectStage[]; afterAuth?: ConnectStage[] };
  /** The web Control UI at `basePath` and WebChat at `<basePath>chat`. @default { enabled: true, basePath: "/" } */
  controlUi?: { enabled?: boolean; basePath?: string };
  /** The directory of the Control UI's built files (`@gateway/control-ui`'s `controlUiRoot()`); none: not served. */
  controlUiRoot?: string;
}

/** Options with every default applied. */
export type ResolvedOptions = Required<
  Omit<
    GatewayServerOptions,
    "logger" | "logging" | "stateDir" | "configPath" | "auth" | "connectStages" | "tls" | "controlUi" | "controlUiRoot"
  >
> & {
  controlUi: { enabled: boolean; basePath: string };
  controlUiRoot: string | undefined;
  tls: { cert: string | Buffer; key: string | Buffer } | undefined;
  auth: AuthOptions;
  stateDir: string | undefined;
  configPath: string | undefined;
  connectStages: { beforeAuth: ConnectStage[]; afterAuth: ConnectStage[] };
};

/** The shortest shared secret accepted (a token always; a password when the gateway is reachable from elsewhere). */
export const MIN_SECRET_LENGTH = 16;

/** Values that end up as secrets by accident: an unset variable stringified, or our own redaction placeholder. */
const PLACEHOLDER_SECRETS = new Set(["undefined", "null", "[redacted]", "changeme"]);

/** Refuse a secret that is a placeholder or too short to resist guessing, naming the fix. */
function refuseWeakSecret(path: string, value: string, minLength: number): void {
  const trimmed = value.trim();
  if (PLACEHOLDER_SECRETS.has(trimmed.toLowerCase()) || /^\$\{.*\}$/.test(trimmed)) {
    throw new Error(
      `${path} is the placeholder "${trimmed}", not a secret: set a real one (openssl rand -base64 32 makes one)`,
    );
  }
  if (trimmed.length < minLength) {
    throw new Error(
      `${path} is ${trimmed.length} characters; at least ${minLength} are needed (openssl rand -base64 32 makes one)`,
    );
  }
}

/** Apply defaults and refuse settings that are unsafe or inconsistent, with a message that says how to fix them. */
export function resolveOptions(options: GatewayServerOptions): ResolvedOptions {
  const host = options.host ?? "127.0.0.1";
  const auth: AuthOptions = options.auth ?? { mode: "token" };
  if (auth.mode === "none" && !isLoopback(host)) {
    throw new Error(
      `auth mode "none" is only allowed on a loopback bind, not ${host}: set gateway.auth.mode to "token" (and a token), or bind to 127.0.0.1`,
    );
  }
  if (auth.mode === "token" && !auth.token) {
    throw new Error('auth mode "token" needs a token: set gateway.auth.token or GATEWAY_TOKEN');
  }
  if (auth.mode === "password" && !auth.password) {
    throw new Error('auth mode "password" needs a password: set gateway.auth.password or GATEWAY_PASSWORD');
  }
  if (auth.mode === "token") refuseWeakSecret("gateway.auth.token", auth.token!, MIN_SECRET_LENGTH);
  // A password is typed by people; on loopback it is only refused when it is a placeholder.
  if (auth.mode === "password")
    refuseWeakSecret("gateway.auth.password", auth.password!, isLoopback(host) ? 1 : MIN_SECRET_LENGTH);
  const maxBufferedBytes = options.maxBufferedBytes ?? 50 * 1024 * 1024;
  return {
    host,
    port: options.port ?? 18789,
    auth,
    allowedOrigins: options.allowedOrigins ?? [],
    allowedHosts: options.allowedHosts ?? [],
    trustedProxies: options.trustedProxies ?? [],
    authNoneBrowserScopes: options.authNoneBrowserScopes ?? ["operator.read"],
    handshakeTimeoutMs: options.handshakeTimeoutMs ?? 5_000,
    maxPreHandshakeBytes: options.maxPreHandshakeBytes ?? 64 * 1024,
    maxPayload: options.maxPayload ?? 25 * 1024 * 1024,
    maxBufferedBytes,
    slowThresholdBytes: options.slowThresholdBytes ?? Math.min(1024 * 1024, Math.floor(maxBufferedBytes / 2)),
    tickIntervalMs: options.tickIntervalMs ?? 30_000,
    maxConnectionsPerAddress: options.maxConnectionsPerAddress ?? 256,
    maxPendingPerAddress: options.maxPendingPerAddress ?? 16,
    maxPendingTotal: options.maxPendingTotal ?? 1_024,
    authMaxFailures: options.authMaxFailures ?? 10,
    authWindowMs: options.authWindowMs ?? 60_000,
    authLockoutMs: options.authLockoutMs ?? 300_000,
    requestTimeoutMs: options.requestTimeoutMs ?? 30_000,
    shutdownTimeoutMs: options.shutdownTimeoutMs ?? 30_000,
    idempotencyTtlMs: options.idempotencyTtlMs ?? 300_000,
    idempotencyMaxEntries: options.idempotencyMaxEntries ?? 1000,
    presenceTtlMs: options.presenceTtlMs ?? 300_000,
    presenceDepartedTtlMs: options.presenceDepartedTtlMs ?? 30_000,
    presenceMaxEntries: options.presenceMaxEntries ?? 200,
    presenceBytesPerSecond: options.presenceBytesPerSecond ?? 1024 * 1024,
    healthIntervalMs: options.healthIntervalMs ?? 60_000,
    metricsPublic: options.metricsPublic ?? false,
    version: options.version ?? "0.0.0",
    stateDir: options.stateDir,
    configPath: options.configPath,
    tls: options.tls,
    controlUi: {
      enabled: options.controlUi?.enabled ?? true,
      basePath: normaliseBasePath(options.controlUi?.basePath),
    },
    controlUiRoot: options.controlUiRoot,
    connectStages: {
      beforeAuth: options.connectStages?.beforeAuth ?? [],
      afterAuth: options.connectStages?.afterAuth ?? [],
    },
  };
}

/** `ui` → `/ui/`; `/` stays. Refuses what is not a plain path (the base path ends up in pages and routes). */
export function normaliseBasePath(basePath: string | undefined): string {
  const value = (basePath ?? "/").trim();
  if (!/^\/?([A-Za-z0-9._~-]+\/?)*$/.test(value) || value.split("/").some((part) => part === ".." || part === "."))
    throw new Error(`gateway.controlUi.basePath "${value}" is not a plain path such as "/" or "/ui/"`);
  const withSlashes = `/${value}/`.replace(/\/+/g, "/");
  return withSlashes;
}
