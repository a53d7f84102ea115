import { parseArgs } from "node:util";
import { commands } from "./commands/index.js";
import { asCliError, connectClient, localPaths } from "./connection.js";
import { CliError, type CliIo, type CommandContext, ExitCode, type GlobalFlags } from "./context.js";
import { configWarning, type LocalConfig, readLocalConfig } from "./local-config.js";
import { didYouMean } from "./suggest.js";

const GLOBAL_OPTIONS = {
  url: { type: "string", description: "gateway URL (env GATEWAY_URL; default from the local config)" },
  token: { type: "string", description: "gateway token (env GATEWAY_TOKEN; default from the local config)" },
  password: { type: "string", description: "gateway password (env GATEWAY_PASSWORD)" },
  "tls-fingerprint": {
    type: "string",
    description:
      "SHA-256 fingerprint the wss:// gateway's certificate must have (env GATEWAY_TLS_FINGERPRINT; default: the local gateway's generated one)",
  },
  json: { type: "boolean", description: "machine-readable output" },
  "state-dir": { type: "string", description: "local state dir (env GATEWAY_STATE_DIR, default ~/.gateway)" },
  config: { type: "string", description: "local config file (env GATEWAY_CONFIG)" },
  timeout: { type: "string", description: "request timeout in ms (default 10000)" },
  help: { type: "boolean", description: "help" },
} as const;

/** Help for every command, or one. */
export function helpText(name?: string): string {
  const command = commands.find((candidate) => candidate.name === name);
  if (command) {
    const own = Object.entries(command.options ?? {}).map(
      ([flag, option]) => `  --${flag}${option.value ? " <value>" : ""}  ${option.description}`,
    );
    return `${command.usage}\n\n${command.summary}\n${own.length ? `\n${own.join("\n")}\n` : ""}`;
  }
  const rows = [
    ["run", "run the gateway in the foreground (gateway run --help)"],
    ...commands.map((c) => [c.name, c.summary]),
  ];
  const width = Math.max(...rows.map(([name]) => name!.length));
  const list = rows.map(([name, summary]) => `  ${name!.padEnd(width)}  ${summary}`).join("\n");
  const globals = Object.entries(GLOBAL_OPTIONS)
    .map(([flag, option]) => `  --${flag.padEnd(10)} ${option.description}`)
    .join("\n");
  return `Usage: gateway <command> [options]\n\n${list}\n\nOptions for every command:\n${globals}\n\nExit codes: 0 ok, 1 failed, 2 usage, 3 gateway unreachable.\n`;
}

/** Run one CLI invocation (everything but `run`) and return its exit code. Never throws. */
export async function runCli(argv: string[], io: CliIo): Promise<number> {
  try {
    // Flags are parsed with the named command's own options (two commands may give one flag different types).
    const valued = new Set(
      Object.entries(GLOBAL_OPTIONS)
        .filter(([, option]) => option.type === "string")
        .map(([flag]) => `--${flag}`),
    );
    const named = argv.find((arg, index) => !arg.startsWith("-") && !valued.has(argv[index - 1] ?? ""));
    const commandOptions = Object.fromEntries(
      Object.entries(commands.find((command) => command.name === named)?.options ?? {}).map(([flag, option]) => [
        flag,
        { type: option.value ? "string" : "boolean" },
      ]),
    );
    let parsed: ReturnType<typeof parseArgs>;
    try {
      parsed = parseArgs({
        args: argv,
        allowPositionals: true,
        // Unknown flags are refused below, with the command's help.
        strict: false,
        options: {
          ...commandOptions,
          ...Object.fromEntries(Object.entries(GLOBAL_OPTIONS).map(([flag, option]) => [flag, { type: option.type }])),
        } as never,
      });
    } catch (error) {
      throw new CliError(`${(error as Error).message}\n\n${helpText()}`, ExitCode.usage);
    }
    const values = parsed.values as Record<string, string | boolean | undefined>;
    const [name, ...args] = parsed.positionals;
    if (!name || name === "help") {
      io.stdout(helpText(args[0]));
      return name || values.help ? 0 : ExitCode.usage;
    }
    const command = commands.find((candidate) => candidate.name === name);
    if (!command)
      throw new CliError(
        `unknown command "${name}"${didYouMean(name, ["run", ...commands.map((candidate) => candidate.name)])}\n\n${helpText()}`,
        ExitCode.usage,
      );
    if (values.help) {
      io.stdout(helpText(name));
      return 0;
    }
    for (const flag of Object.keys(values)) {
      if (!(flag in GLOBAL_OPTIONS) && !(flag in (command.options ?? {}))) {
        throw new CliError(
          `gateway ${name} does not take --${flag}${didYouMean(flag, [...Object.keys(GLOBAL_OPTIONS), ...Object.keys(command.options ?? {})], "--")}\n\n${helpText(name)}`,
          ExitCode.usage,
        );
      }
    }
    const timeoutMs = typeof values.timeout === "string" ? Number(values.timeout) : 10_000;
    if (!Number.isFinite(timeoutMs) || timeoutMs <= 0)
      throw new CliError("--timeout must be a positive number of ms", ExitCode.usage);
    const global: GlobalFlags = {
      json: values.json === true,
      timeoutMs,
      ...(typeof values.url === "string" ? { url: values.url } : {}),
      ...(typeof values.token === "string" ? { token: values.token } : {}),
      ...(typeof values.password === "string" ? { password: values.password } : {}),
      ...(typeof values["tls-fingerprint"] === "string" ? { tlsFingerprint: values["tls-fingerprint"] } : {}),
      ...(typeof values["state-dir"] === "string" ? { stateDir: values["state-dir"] } : {}),
      ...(typeof values.config === "string" ? { config: values.config } : {}),
    };
    const paths = localPaths(global, io.env);
    let local: LocalConfig | undefined;
    const localConfig = () => {
      if (local) return local;
      local = readLocalConfig(paths, io.env);
      if (local.problems.length > 0) io.stderr(configWarning(local));
      return local;
    };
    const context: CommandContext = {
      args,
      flags: values,
      global,
      io,
      paths,
      localConfig,
      connect: (options) =>
        connectClient(global, io, localConfig, { ...options, ...(command.scopes ? { scopes: command.scopes } : {}) }),
    };
    return await command.run(context);
  } catch (error) {
    const failure = asCliError(error);
    io.stderr(`✖ ${failure.message}\n`);
    return failure.exitCode;
  }
}
