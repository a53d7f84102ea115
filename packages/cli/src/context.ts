import { readFileSync } from "node:fs";
import type { GatewayClient } from "@gateway/client";
import { GatewayError, hasErrorMarker } from "@gateway/protocol";
import type { LocalConfig } from "./local-config.js";

/** Exit codes: 0 ok, 1 the operation failed, 2 usage error, 3 the gateway is unreachable. */
export const ExitCode = { ok: 0, failed: 1, usage: 2, unreachable: 3 } as const;

/** Where the CLI's input comes from and its output goes. Tests pass their own. */
export interface CliIo {
  stdout: (text: string) => void;
  stderr: (text: string) => void;
  env: Readonly<Record<string, string | undefined>>;
  /** Whether stdout is a terminal (tables, colours, spinners) or a pipe (plain, no spinner). */
  isTty: boolean;
  /** Input of interactive commands (`gateway chat`). @default process.stdin */
  stdin?: NodeJS.ReadableStream;
  /** Where an interactive prompt draws (`gateway chat`). @default process.stdout */
  terminal?: NodeJS.WritableStream;
  /** Ends a long-running command (`gateway node run`) as Ctrl-C would (tests, embedders). */
  signal?: AbortSignal;
}

/** Parsed global flags. */
export interface GlobalFlags {
  url?: string;
  token?: string;
  password?: string;
  /** The SHA-256 fingerprint a wss:// gateway's certificate must have (`--tls-fingerprint`). */
  tlsFingerprint?: string;
  json: boolean;
  stateDir?: string;
  config?: string;
  timeoutMs: number;
}

/** What a command gets. */
export interface CommandContext {
  /** Positional arguments after the command name (and its subcommand). */
  readonly args: string[];
  /** The command's own flags, as given (`--params`, `--follow`…). */
  readonly flags: Record<string, string | boolean | undefined>;
  readonly global: GlobalFlags;
  readonly io: CliIo;
  /**
   * A connected client (resolved from flags, GATEWAY_URL/GATEWAY_TOKEN, or the local config). `onLost` is called when
   * the gateway goes away while connected (it stopped, or the network dropped).
   */
  connect(options?: { onLost?: () => void }): Promise<GatewayClient>;
  /** The local state dir and config path. */
  readonly paths: { stateDir: string; configPath: string };
  /** The local config, read once; its problems are printed once as a warning, and the command goes on. */
  localConfig(): LocalConfig;
}

/** One subcommand: a single file exporting one of these, listed in commands/index.ts. */
export interface Command {
  readonly name: string;
  readonly summary: string;
  readonly usage: string;
  /** The scopes the command asks for (least privilege). @default every operator scope */
  readonly scopes?: readonly string[];
  /** Flags the command accepts (besides the global ones); `true` = takes a value. */
  readonly options?: Record<string, { value: boolean; description: string }>;
  run(context: CommandContext): Promise<number>;
}

/** The text of a file the user named (`-` is stdin), or a usage error that says which file could not be read. */
export function readInputFile(path: string, what: string): string {
  try {
    return readFileSync(path === "-" ? 0 : path, "utf8");
  } catch (error) {
    throw new CliError(
      `cannot read ${what} ${path}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`,
      ExitCode.usage,
    );
  }
}

const CLI_ERROR = Symbol.for("gateway.error.cli");

/** A failure that should print a message and exit with a code (no stack). */
export class CliError extends GatewayError {
  readonly [CLI_ERROR] = true;

  constructor(
    message: string,
    readonly exitCode: number = ExitCode.failed,
    options: { cause?: unknown } = {},
  ) {
    super("CLI_FAILED", message, options);
  }

  /** Whether `value` is a CliError, across package copies. */
  static override isInstance(value: unknown): value is CliError {
    return hasErrorMarker(value, CLI_ERROR);
  }
}
