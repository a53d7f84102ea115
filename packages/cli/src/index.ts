// @gateway/cli — the public surface: the `gateway` command's subcommands (the app adds `run`).
export { helpText, runCli } from "./cli.js";
export { commands } from "./commands/index.js";
export { RUN_FILE, resolveConnection, runningGatewayUrl } from "./connection.js";
export { CliError, type CliIo, type Command, type CommandContext, ExitCode } from "./context.js";
