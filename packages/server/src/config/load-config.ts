import { createHash, randomBytes } from "node:crypto";
import { existsSync, mkdirSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { removeStaleTempFilesSync, writeFileAtomicSync } from "@gateway/state";
import type { TSchema } from "@sinclair/typebox";
import { ConfigError, type ConfigIssue } from "./errors.js";
import { deepMerge, readConfigFile, unreadableFileMessage } from "./read-config-file.js";
import { parseDotEnv, substituteEnv } from "./substitute.js";
import { validateConfig } from "./validate-config.js";

/**
 * Values set outside the file — the environment's `GATEWAY_*` variables, command-line flags — as a partial config
 * laid over it, each naming where it came from (in problems it causes).
 */
export interface ConfigLayer {
  /** Where the values came from: `GATEWAY_* environment variables`, `command-line flags`. */
  readonly source: string;
  readonly config: Record<string, unknown>;
  /** Problems found while building the layer (a variable that is not a number…). */
  readonly issues?: readonly ConfigIssue[];
}

/** Inputs of `loadConfig`. Only the app passes `process.env`. */
export interface LoadConfigOptions {
  /** The config file (`gateway.json5` in the state dir unless overridden). */
  path: string;
  /** The state directory; its `.env` is read without overriding `env`. */
  stateDir: string;
  schema: TSchema;
  /** For `${VAR}` in the file. */
  env: Readonly<Record<string, string | undefined>>;
  /** Laid over the file in order, each winning over the ones before. */
  layers?: readonly ConfigLayer[];
}

/** A loaded, validated configuration. */
export interface LoadedConfig {
  readonly path: string;
  readonly exists: boolean;
  /** The file's text (null when there is no file). */
  readonly raw: string | null;
  /** sha256 of the file's text: the `baseHash` of config edits (null when there is no file). */
  readonly hash: string | null;
  /** What the file says, after includes and substitution. */
  readonly fileConfig: Record<string, unknown>;
  /** The effective config: defaults < file < each layer (environment, flags) in order. */
  readonly config: Record<string, unknown>;
  /** The config file and every file it includes (watched for hot reload). */
  readonly files: string[];
}

/** sha256 of a config text. */
export function hashConfigText(text: string): string {
  return createHash("sha256").update(text).digest("hex");
}

/** The environment used for `${VAR}`: the real one, completed (never overridden) by the state dir's `.env`. */
export function environmentWithDotEnv(
  stateDir: string,
  env: LoadConfigOptions["env"],
): Record<string, string | undefined> {
  const file = join(stateDir, ".env");
  if (!existsSync(file)) return { ...env };
  return { ...parseDotEnv(readFileSync(file, "utf8")), ...env };
}

/** Parse, include, substitute and validate `text` as the config file's content (used for edits before writing). */
export function evaluateConfigText(
  options: LoadConfigOptions,
  issues: ConfigIssue[],
  text?: string,
): { fileConfig: Record<string, unknown>; files: string[] } {
  const { value, files } = readConfigFile(options.path, issues, text);
  const env = environmentWithDotEnv(options.stateDir, options.env);
  const fileConfig = substituteEnv(value, env, issues) as Record<string, unknown>;
  if (issues.length === 0) issues.push(...validateConfig(options.schema, fileConfig));
  return { fileConfig, files };
}

/**
 * Load the configuration: read the JSON5 file (a missing file means safe defaults), resolve `$include`, substitute
 * `${VAR}`, validate against the composed schema, then lay the layers (environment, flags) on top and validate the
 * result. Throws a ConfigError listing every problem.
 */
export function loadConfig(options: LoadConfigOptions): LoadedConfig {
  const exists = existsSync(options.path);
  if (exists) removeStaleTempFilesSync(options.path);
  return loadConfigText(options, exists ? readConfigText(options.path) : null);
}

/** The config file's text; a path that is a directory or cannot be read is a ConfigError that says what to do. */
function readConfigText(path: string): string {
  try {
    return readFileSync(path, "utf8");
  } catch (error) {
    throw new ConfigError(path, [{ path, message: unreadableFileMessage(path, error) }], { cause: error });
  }
}

/** `loadConfig` for a given file text (null: no file) — how edits are checked before they are written. */
export function loadConfigText(options: LoadConfigOptions, raw: string | null): LoadedConfig {
  const issues: ConfigIssue[] = [];
  const exists = raw !== null;
  let fileConfig: Record<string, unknown> = {};
  let files: string[] = [options.path];
  if (raw !== null) ({ fileConfig, files } = evaluateConfigText(options, issues, raw));
  if (issues.length > 0) throw new ConfigError(options.path, issues);
  let layered = fileConfig;
  for (const layer of options.layers ?? []) {
    issues.push(...(layer.issues ?? []));
    layered = deepMerge(layered, layer.config);
  }
  if (issues.length === 0) {
    const sources = (options.layers ?? []).map((layer) => layer.source);
    for (const issue of validateConfig(options.schema, layered)) {
      const hint = issue.hint ?? (sources.length ? `set by ${sources.join(" or ")}` : undefined);
      issues.push(hint ? { ...issue, hint } : issue);
    }
  }
  if (issues.length > 0) throw new ConfigError(options.path, issues);
  return {
    path: options.path,
    exists,
    raw,
    hash: raw === null ? null : hashConfigText(raw),
    fileConfig,
    config: layered,
    files,
  };
}

/** The commented starter config written on first run. */
export function starterConfig(token: string): string {
  return `// Gateway configuration (JSON5: comments and trailing commas are fine).
// Every key is optional; \`gateway config validate\` checks this file, and edits apply without a restart
// where they can (see gateway.reload). Values may use \${ENV_VAR}; a .env file next to this one is read too.
{
  gateway: {
    port: 18789,
    // loopback (this machine only), lan (every interface) or custom (set gateway.host)
    bind: "loopback",
    auth: {
      mode: "token",
      // Clients (the CLI, the Control UI, apps) present this token. Keep it secret; rotate it by editing it here.
      token: "${token}",
    },
    reload: { mode: "hybrid", debounceMs: 300 },
    // An OpenAI-compatible API for the agent on this port (token auth): POST /v1/chat/completions, GET /v1/models.
    // http: { endpoints: { chatCompletions: { enabled: true } } },
  },
  logging: {
    level: "info",
  },
  // The model. Without one the echo agent answers (it repeats each message). Any OpenAI-compatible server works:
  // models: {
  //   providers: {
  //     openai: { baseUrl: "https://api.openai.com/v1", apiKey: "\${OPENAI_API_KEY}", models: [{ id: "gpt-4o-mini" }] },
  //     // ollama: { baseUrl: "http://127.0.0.1:11434/v1", models: [{ id: "llama3.1" }] },
  //   },
  // },
  // agents: {
  //   defaults: {
  //     model: "openai/gpt-4o-mini",
  //     backend: "auto", // auto (pi when a model is set) | pi | openai | cli | echo
  //     // cli: { preset: "claude" }, // with backend "cli": pi, claude or codex as the agent, one process per turn
  //   },
  // },
  // session: { dmScope: "main", reset: { mode: "daily", atHour: 4 } },
  // Background events from Redis into the main session (or set GATEWAY_REDIS_URL):
  // redis: { url: "redis://127.0.0.1:6379" },
  // The heartbeat (needs a model): a look at HEARTBEAT.md in the agent workspace every 30 minutes.
  // heartbeat: { every: "30m", activeHours: { start: "08:00", end: "22:00" } },
}
`;
}

/**
 * On first run, write the starter config with a strong random token (mode 0600) and return the token; when a config
 * file exists, return undefined and change nothing.
 */
export function ensureStarterConfig(path: string): { token: string } | undefined {
  if (existsSync(path)) return undefined;
  mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
  const token = randomBytes(32).toString("base64url");
  writeFileAtomicSync(path, starterConfig(token), { mode: 0o600 });
  return { token };
}
