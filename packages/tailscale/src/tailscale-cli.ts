// The installed `tailscale` command, run without a shell, with a timeout and bounded output, in an allowlisted
// environment. Its failures become TailscaleErrors that say what to do (grammY-style hints at the failure point).
import { type ExecFileException, execFile } from "node:child_process";
import { TailscaleError } from "./tailscale-error.js";

/** Options of a TailscaleCli. */
export interface TailscaleCliOptions {
  /** The command (looked up on `env.PATH`). @default "tailscale" */
  binary?: string;
  /** The child's environment; only PATH, HOME and locale variables are passed on. */
  env?: Readonly<Record<string, string | undefined>>;
  /** @default 10000 */
  timeoutMs?: number;
}

const PASSED_ON = ["PATH", "HOME", "LANG", "LC_ALL", "TMPDIR"];
const MAX_OUTPUT_BYTES = 1024 * 1024;

/** Runs `tailscale <args>` and returns what it printed on stdout. */
export class TailscaleCli {
  readonly binary: string;
  readonly #env: Record<string, string>;
  readonly #timeoutMs: number;

  constructor(options: TailscaleCliOptions = {}) {
    this.binary = options.binary ?? "tailscale";
    this.#timeoutMs = options.timeoutMs ?? 10_000;
    this.#env = {};
    for (const name of PASSED_ON) {
      const value = options.env?.[name];
      if (value !== undefined) this.#env[name] = value;
    }
  }

  run(args: readonly string[]): Promise<string> {
    const command = [this.binary, ...args];
    return new Promise((resolve, reject) => {
      execFile(
        this.binary,
        args,
        { env: this.#env, timeout: this.#timeoutMs, maxBuffer: MAX_OUTPUT_BYTES, windowsHide: true },
        (error, stdout, stderr) => {
          if (!error) return resolve(stdout);
          reject(describeFailure(error, command, String(stderr || stdout).trim(), this.#timeoutMs));
        },
      );
    });
  }
}

function describeFailure(
  error: ExecFileException,
  command: readonly string[],
  output: string,
  timeoutMs: number,
): TailscaleError {
  const shown = command.join(" ");
  const details = { cause: error, command, stderr: output };
  if (error.code === "ENOENT")
    return new TailscaleError(
      "not-installed",
      `${command[0]} was not found on PATH: install Tailscale (https://tailscale.com/download) or set gateway.tailscale.mode to off`,
      details,
    );
  if (error.killed)
    return new TailscaleError("command-failed", `\`${shown}\` did not answer within ${timeoutMs} ms`, details);
  const lower = output.toLowerCase();
  if (lower.includes("failed to connect to local tailscale") || lower.includes("doesn't appear to be running"))
    return new TailscaleError(
      "daemon-unreachable",
      `\`${shown}\` cannot reach tailscaled (${output}): start it (systemctl start tailscaled)`,
      details,
    );
  if (lower.includes("access denied") || lower.includes("permission denied"))
    return new TailscaleError(
      "access-denied",
      `\`${shown}\` was refused (${output}): let this user manage Tailscale once with \`sudo tailscale set --operator=$USER\``,
      details,
    );
  if (lower.includes("funnel not available") || lower.includes("no-funnel"))
    return new TailscaleError(
      "funnel-unavailable",
      `\`${shown}\` failed: Funnel is not enabled for this machine (${output}); allow it in the tailnet policy or use mode serve`,
      details,
    );
  return new TailscaleError("command-failed", `\`${shown}\` failed: ${output || error.message}`, details);
}
