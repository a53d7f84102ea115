import { spawnSync } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import type { GatewayClient } from "@gateway/client";
import { builtinChannelIssues, gatewayConfigSchema, loadGatewayConfig } from "@gateway/gateway/config";
import {
  ConfigError,
  editJson5,
  formatIssues,
  Json5EditError,
  loadConfigText,
  patchJson5,
  redactSecrets,
} from "@gateway/server/config";
import { writeFileAtomicSync } from "@gateway/state";
import JSON5 from "json5";
import { connectIfRunning } from "../connection.js";
import { CliError, type Command, type CommandContext, ExitCode, readInputFile } from "../context.js";
import { printJson } from "../output.js";
import { didYouMean } from "../suggest.js";

const USAGE = `gateway config get [<path>] | set <path> <value> | unset <path> | patch '<json5>' | replace <file|->
       gateway config validate | path | edit`;
const ACTIONS = ["get", "set", "unset", "patch", "replace", "validate", "path", "edit"];

/** `gateway.auth.token` → `["gateway", "auth", "token"]`. */
function parsePath(text: string | undefined, action: string): string[] {
  const path = (text ?? "").split(".");
  if (!text || path.some((key) => key === ""))
    throw new CliError(`gateway config ${action} needs a dotted path, e.g. logging.level`, ExitCode.usage);
  return path;
}

/** A typed value: JSON5 when it parses (`8080`, `true`, `[1,2]`, `{a:1}`, `"8080"`), else the text as a string. */
export function parseValue(text: string): unknown {
  try {
    return JSON5.parse(text);
  } catch {
    return text;
  }
}

function valueAt(config: unknown, path: readonly string[]): unknown {
  let node = config;
  for (const key of path) {
    if (node === null || typeof node !== "object" || !(key in node)) return undefined;
    node = (node as Record<string, unknown>)[key];
  }
  return node;
}

/** `{a: {b: value}}` for `a.b` (a merge patch; `null` removes). */
function patchFor(path: readonly string[], value: unknown): unknown {
  return path.reduceRight<unknown>((inner, key) => ({ [key]: inner }), value);
}

function describeWrite(context: CommandContext, result: { changedPaths: string[]; restartRequired: boolean }) {
  if (context.global.json) return printJson(context.io, result);
  const count = result.changedPaths.length;
  context.io.stdout(
    `✔ config written (${count} change${count === 1 ? "" : "s"}: ${result.changedPaths.join(", ") || "none"})${count > 0 && !result.restartRequired ? ", applied live" : ""}\n`,
  );
  if (result.restartRequired) context.io.stdout("  some changes take effect after a restart\n");
}

/** Through the running gateway: it validates, writes in place (keeping comments, with a .bak) and applies. */
async function writeThrough(
  context: CommandContext,
  client: GatewayClient,
  kind: "config.set" | "config.patch",
  raw: string,
) {
  const { hash } = await client.request("config.get");
  describeWrite(context, await client.request(kind, { raw, ...(hash ? { baseHash: hash } : {}) }));
  return ExitCode.ok;
}

/** No gateway running: edit the file itself, validated first, with one backup. */
function writeLocally(context: CommandContext, edit: (text: string) => string): number {
  const { configPath, stateDir } = context.paths;
  const before = existsSync(configPath) ? readFileSync(configPath, "utf8") : "";
  let after: string;
  try {
    after = edit(before);
  } catch (error) {
    if (error instanceof Json5EditError) throw new CliError(`${configPath}: ${error.message}`);
    throw error;
  }
  try {
    const loaded = loadConfigText(
      { path: configPath, stateDir, schema: gatewayConfigSchema, env: context.io.env },
      after,
    );
    const channelIssues = builtinChannelIssues(loaded.config as { channels?: Record<string, unknown> });
    if (channelIssues.length > 0)
      throw new CliError(
        `the change is refused (nothing was written):\n${channelIssues.map((line) => `  ${line}`).join("\n")}`,
      );
  } catch (error) {
    if (!ConfigError.isInstance(error)) throw error;
    throw new CliError(`the change is refused (nothing was written):\n${formatIssues(error.issues)}`);
  }
  if (before) writeFileAtomicSync(`${configPath}.bak`, before, { mode: 0o600 });
  writeFileAtomicSync(configPath, after, { mode: 0o600 });
  if (context.global.json) printJson(context.io, { ok: true, path: configPath, running: false });
  else
    context.io.stdout(
      `✔ ${configPath} written (the gateway is not running here: the change applies when it starts; previous file kept as ${configPath}.bak)\n`,
    );
  return ExitCode.ok;
}

function validate(context: CommandContext): number {
  const { stateDir, configPath } = context.paths;
  try {
    const loaded = loadGatewayConfig({ configPath, stateDir, env: context.io.env });
    const channelIssues = builtinChannelIssues(loaded.config as { channels?: Record<string, unknown> });
    if (channelIssues.length > 0) {
      if (context.global.json) printJson(context.io, { valid: false, path: configPath, issues: channelIssues });
      else
        context.io.stderr(
          `✖ ${configPath}: ${channelIssues.length} problem${channelIssues.length === 1 ? "" : "s"}\n${channelIssues.map((issue) => `  ${issue}`).join("\n")}\n`,
        );
      return ExitCode.usage;
    }
    if (context.global.json) printJson(context.io, { valid: true, path: configPath, exists: loaded.exists });
    else
      context.io.stdout(
        loaded.exists
          ? `✔ ${configPath} is valid\n`
          : `✔ no config file at ${configPath}: the defaults apply (the first \`gateway run\` writes a starter)\n`,
      );
    return 0;
  } catch (error) {
    if (!ConfigError.isInstance(error)) throw error;
    if (context.global.json) printJson(context.io, { valid: false, path: configPath, issues: error.issues });
    else
      context.io.stderr(
        `✖ ${error.file}: ${error.issues.length} problem${error.issues.length === 1 ? "" : "s"}\n${formatIssues(error.issues)}\n`,
      );
    return ExitCode.usage;
  }
}

async function get(context: CommandContext, pathText: string | undefined): Promise<number> {
  const path = pathText === undefined ? [] : parsePath(pathText, "get");
  const client = await connectIfRunning(context);
  let whole: { config: unknown; [key: string]: unknown };
  if (client) {
    try {
      whole = await client.request("config.get");
    } finally {
      client.close();
    }
  } else {
    const local = context.localConfig();
    whole = { path: local.path, exists: local.exists, running: false, config: redactSecrets(local.config) };
  }
  if (path.length === 0) {
    printJson(context.io, whole);
    return ExitCode.ok;
  }
  const value = valueAt(whole.config, path);
  if (value === undefined) {
    context.io.stderr(`${path.join(".")} is not set (the default applies)\n`);
    return ExitCode.failed;
  }
  if (context.global.json || typeof value === "object") printJson(context.io, value);
  else context.io.stdout(`${String(value)}\n`);
  return ExitCode.ok;
}

/** Run `$VISUAL`/`$EDITOR` (which may carry arguments, e.g. `code --wait`) on the file, through the shell. */
function runEditor(editor: string, file: string): number | null {
  // One command string (not a string plus an argument list, which Node deprecates with shell: true).
  const quoted = `'${file.replace(/'/g, "'\\''")}'`;
  return spawnSync(`${editor} ${quoted}`, { stdio: "inherit", shell: true }).status;
}

export const configCommand: Command = {
  name: "config",
  summary: "read, change, validate or edit the config (comments and layout are kept)",
  usage: USAGE,
  async run(context) {
    const [action, argument, ...more] = context.args;
    switch (action) {
      case "path":
        context.io.stdout(`${context.paths.configPath}\n`);
        return 0;
      case "validate":
        return validate(context);
      case "get":
        return get(context, argument);
      case "set": {
        if (argument && more.length === 0 && (argument === "-" || existsSync(argument)))
          throw new CliError(`to replace the whole file use: gateway config replace ${argument}`, ExitCode.usage);
        const path = parsePath(argument, "set");
        if (more.length === 0) throw new CliError(`gateway config set ${argument} <value>`, ExitCode.usage);
        const value = parseValue(more.join(" "));
        if (value === null)
          throw new CliError("null is not a value: gateway config unset removes a setting", ExitCode.usage);
        const client = await connectIfRunning(context);
        if (!client) return writeLocally(context, (text) => editJson5(text, path, value));
        try {
          return await writeThrough(context, client, "config.patch", JSON.stringify(patchFor(path, value)));
        } finally {
          client.close();
        }
      }
      case "unset": {
        const path = parsePath(argument, "unset");
        const client = await connectIfRunning(context);
        if (!client) return writeLocally(context, (text) => editJson5(text, path, undefined));
        try {
          return await writeThrough(context, client, "config.patch", JSON.stringify(patchFor(path, null)));
        } finally {
          client.close();
        }
      }
      case "patch": {
        if (!argument) throw new CliError("gateway config patch '<json5 merge patch>'", ExitCode.usage);
        const client = await connectIfRunning(context);
        if (!client)
          return writeLocally(context, (text) => {
            let patch: unknown;
            try {
              patch = JSON5.parse(argument);
            } catch (error) {
              throw new CliError(`the patch is not valid JSON5: ${(error as Error).message}`, ExitCode.usage);
            }
            return patchJson5(text, patch);
          });
        try {
          return await writeThrough(context, client, "config.patch", argument);
        } finally {
          client.close();
        }
      }
      case "replace": {
        if (!argument) throw new CliError("gateway config replace <file> (or - for stdin)", ExitCode.usage);
        const raw = readInputFile(argument, "the config file");
        const client = await connectIfRunning(context);
        if (!client) return writeLocally(context, () => raw);
        try {
          return await writeThrough(context, client, "config.set", raw);
        } finally {
          client.close();
        }
      }
      case "edit": {
        const editor = context.io.env.VISUAL || context.io.env.EDITOR || "vi";
        const { configPath } = context.paths;
        if (!existsSync(configPath))
          throw new CliError(`no config file at ${configPath}: start the gateway once (gateway run) to write one`);
        const status = runEditor(editor, configPath);
        if (status !== 0) throw new CliError(`${editor} exited with ${status}`);
        // A running gateway applies the saved file by itself; say whether it will accept it.
        return validate(context);
      }
      default:
        throw new CliError(
          `unknown config action "${action ?? ""}"${action ? didYouMean(action, ACTIONS) : ""}\n${USAGE}`,
          ExitCode.usage,
        );
    }
  },
};
