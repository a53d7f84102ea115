// The one place the gateway's environment variables are named: `GATEWAY_*` overrides of config paths, the
// `OPENAI_*` fallback model, and where the state directory and config file are. The app and the CLI pass their
// environment in; no package below reads `process.env`.
import { homedir } from "node:os";
import { join, resolve } from "node:path";
import type { PiProvider } from "@gateway/agent";
import type { ConfigIssue, ConfigLayer } from "@gateway/server/config";

/** Where `GATEWAY_*` environment variables land in the config. */
export const ENVIRONMENT_OVERRIDES: ReadonlyArray<{ variable: string; path: readonly string[]; integer?: boolean }> = [
  { variable: "GATEWAY_PORT", path: ["gateway", "port"], integer: true },
  { variable: "GATEWAY_BIND", path: ["gateway", "bind"] },
  { variable: "GATEWAY_HOST", path: ["gateway", "host"] },
  { variable: "GATEWAY_AUTH_MODE", path: ["gateway", "auth", "mode"] },
  { variable: "GATEWAY_TOKEN", path: ["gateway", "auth", "token"] },
  { variable: "GATEWAY_PASSWORD", path: ["gateway", "auth", "password"] },
  { variable: "GATEWAY_LOG_LEVEL", path: ["logging", "level"] },
  { variable: "GATEWAY_REDIS_URL", path: ["redis", "url"] },
  // Each instance of a fleet its own id, with the same config file everywhere (fleet-wide config edits need that).
  { variable: "GATEWAY_FLEET_INSTANCE_ID", path: ["fleet", "instanceId"] },
];

/** An environment, as the app has it (`process.env`). */
export type Environment = Readonly<Record<string, string | undefined>>;

function setPath(target: Record<string, unknown>, path: readonly string[], value: unknown): void {
  let node = target;
  for (const key of path.slice(0, -1)) {
    const next = node[key];
    const child = typeof next === "object" && next !== null ? (next as Record<string, unknown>) : {};
    node[key] = child;
    node = child;
  }
  node[path.at(-1)!] = value;
}

/** The `GATEWAY_*` variables as a config layer (empty ones count as unset; a non-number port is an issue). */
export function environmentLayer(env: Environment): ConfigLayer {
  const config: Record<string, unknown> = {};
  const issues: ConfigIssue[] = [];
  for (const { variable, path, integer } of ENVIRONMENT_OVERRIDES) {
    const text = env[variable];
    if (text === undefined || text === "") continue;
    if (integer) {
      const number = Number(text);
      if (!Number.isInteger(number)) {
        issues.push({ path: path.join("."), message: `${variable} must be an integer`, found: JSON.stringify(text) });
        continue;
      }
      setPath(config, path, number);
    } else setPath(config, path, text);
  }
  return { source: "GATEWAY_* environment variables", config, issues };
}

/**
 * The model to use when the config names none: `OPENAI_API_KEY` (OpenAI) or `OPENAI_BASE_URL` (any
 * OpenAI-compatible server: Ollama, vLLM, LiteLLM), with `GATEWAY_MODEL` naming the model.
 */
export function fallbackModelFromEnvironment(env: Environment): { provider: PiProvider; model: string } | undefined {
  if (!env.OPENAI_API_KEY && !env.OPENAI_BASE_URL) return undefined;
  const model = env.GATEWAY_MODEL || "gpt-4o-mini";
  return {
    model,
    provider: {
      name: "openai",
      baseUrl: env.OPENAI_BASE_URL || "https://api.openai.com/v1",
      ...(env.OPENAI_API_KEY ? { apiKey: env.OPENAI_API_KEY } : {}),
      models: [{ id: model }],
    },
  };
}

/** The state directory and config file: flags, then `GATEWAY_STATE_DIR` / `GATEWAY_CONFIG`, then `~/.gateway`. */
export function gatewayPaths(
  given: { stateDir?: string | undefined; config?: string | undefined },
  env: Environment,
): { stateDir: string; configPath: string } {
  const stateDir = resolve(given.stateDir || env.GATEWAY_STATE_DIR || join(homedir(), ".gateway"));
  const configPath = resolve(given.config || env.GATEWAY_CONFIG || join(stateDir, "gateway.json5"));
  return { stateDir, configPath };
}
