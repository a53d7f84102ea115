// The local config as the CLI needs it: validated when it is valid, and otherwise read leniently, so one typo in a
// section a command does not use never locks anyone out of `status`, `health` or `logs`. The problems are printed
// once, as a warning with their paths.
import { existsSync } from "node:fs";
import { environmentLayer, loadGatewayConfig } from "@gateway/gateway/config";
import {
  ConfigError,
  type ConfigIssue,
  environmentWithDotEnv,
  formatIssues,
  readConfigFile,
  substituteEnv,
} from "@gateway/server/config";
import type { CliIo } from "./context.js";

/** The local config, valid or not. */
export interface LocalConfig {
  /** The effective config: validated when `problems` is empty, else what could be read. */
  readonly config: Record<string, unknown>;
  readonly exists: boolean;
  readonly path: string;
  /** What is wrong with it (empty when valid). */
  readonly problems: readonly ConfigIssue[];
}

function merge(base: Record<string, unknown>, over: Record<string, unknown>): Record<string, unknown> {
  const result = { ...base };
  for (const [key, value] of Object.entries(over)) {
    const existing = result[key];
    result[key] =
      existing && value && typeof existing === "object" && typeof value === "object" && !Array.isArray(value)
        ? merge(existing as Record<string, unknown>, value as Record<string, unknown>)
        : value;
  }
  return result;
}

/** Load the local config; never throws for an invalid one (see `problems`). */
export function readLocalConfig(paths: { stateDir: string; configPath: string }, env: CliIo["env"]): LocalConfig {
  const { stateDir, configPath } = paths;
  try {
    const loaded = loadGatewayConfig({ configPath, stateDir, env });
    return { config: loaded.config, exists: loaded.exists, path: configPath, problems: [] };
  } catch (error) {
    if (!ConfigError.isInstance(error)) throw error;
    // Whatever parses: a syntax error leaves nothing, a typo in one section leaves every other section usable.
    const ignored: ConfigIssue[] = [];
    const exists = existsSync(configPath);
    const { value } = exists ? readConfigFile(configPath, ignored) : { value: {} };
    const substituted = substituteEnv(value, environmentWithDotEnv(stateDir, env), ignored) as Record<string, unknown>;
    return {
      config: merge(substituted, environmentLayer(env).config),
      exists,
      path: configPath,
      problems: error.issues,
    };
  }
}

/** The warning a command prints (once) when the config has problems but the command can go on. */
export function configWarning(local: LocalConfig): string {
  const count = local.problems.length;
  return `! ${local.path} has ${count} problem${count === 1 ? "" : "s"} (going on with what can be read; a running gateway keeps its last good config):\n${formatIssues(local.problems)}\n  → gateway config validate shows them; gateway doctor checks the rest\n`;
}
