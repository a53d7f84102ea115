import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { builtinChannelIssues, loadGatewayConfig } from "@gateway/gateway/config";
import { ConfigError, formatIssues } from "@gateway/server/config";
import { CliError, type Command, type CommandContext, ExitCode, readInputFile } from "../context.js";
import { printJson } from "../output.js";

async function write(context: CommandContext, kind: "config.set" | "config.patch", raw: string): Promise<number> {
  const client = await context.connect();
  try {
    const { hash } = await client.request("config.get");
    const result = await client.request(kind, { raw, ...(hash ? { baseHash: hash } : {}) });
    if (context.global.json) printJson(context.io, result);
    else {
      context.io.stdout(
        `✔ config written (${result.changedPaths.length} change${result.changedPaths.length === 1 ? "" : "s"}: ${result.changedPaths.join(", ") || "none"})\n`,
      );
      if (result.restartRequired) context.io.stdout("  some changes take effect after a restart\n");
    }
    return 0;
  } finally {
    client.close();
  }
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
    if (!(error instanceof ConfigError)) throw error;
    if (context.global.json) printJson(context.io, { valid: false, path: configPath, issues: error.issues });
    else
      context.io.stderr(
        `✖ ${error.file}: ${error.issues.length} problem${error.issues.length === 1 ? "" : "s"}\n${formatIssues(error.issues)}\n`,
      );
    return ExitCode.usage;
  }
}

export const configCommand: Command = {
  name: "config",
  summary: "read, change, validate or edit the config",
  usage: "gateway config get | set <file|-> | patch '<json5>' | validate | path | edit",
  async run(context) {
    const [action, argument] = context.args;
    switch (action) {
      case "path":
        context.io.stdout(`${context.paths.configPath}\n`);
        return 0;
      case "validate":
        return validate(context);
      case "get": {
        const client = await context.connect();
        try {
          printJson(context.io, await client.request("config.get"));
          return 0;
        } finally {
          client.close();
        }
      }
      case "set": {
        if (!argument) throw new CliError("gateway config set <file> (or - for stdin)", ExitCode.usage);
        return write(context, "config.set", readInputFile(argument, "the config file"));
      }
      case "patch":
        if (!argument) throw new CliError("gateway config patch '<json5 merge patch>'", ExitCode.usage);
        return write(context, "config.patch", argument);
      case "edit": {
        const editor = context.io.env.VISUAL ?? context.io.env.EDITOR ?? "vi";
        const { configPath } = context.paths;
        if (!existsSync(configPath))
          throw new CliError(`no config file at ${configPath}: start the gateway once (gateway run) to write one`);
        const result = spawnSync(editor, [configPath], { stdio: "inherit", shell: true });
        if (result.status !== 0) throw new CliError(`${editor} exited with ${result.status}`);
        // A running gateway applies the saved file by itself; say whether it will accept it.
        return validate(context);
      }
      default:
        throw new CliError(`unknown config action "${action ?? ""}": ${configCommand.usage}`, ExitCode.usage);
    }
  },
};
