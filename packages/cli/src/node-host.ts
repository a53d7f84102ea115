// A small headless node host of our own: `system.which` (where executables are) and `system.run` (argv, no shell)
// limited to an allowlist, with a timeout, an output cap and an allowlisted environment.
import { spawn } from "node:child_process";
import { constants } from "node:fs";
import { access } from "node:fs/promises";
import { basename, delimiter, isAbsolute, join } from "node:path";
import type { NodeCommandHandler } from "@gateway/client";

/** What `system.run` may run and how. */
export interface NodeHostOptions {
  /** Executables `system.run` may start (names looked up on PATH, or absolute paths). Empty: `system.run` is off. */
  allowRun: readonly string[];
  /** @default 30000 */
  maxTimeoutMs?: number;
  /** Bytes of stdout and of stderr kept per run. @default 65536 */
  maxOutputBytes?: number;
  /** The environment of the host process (PATH is read from it; only a few variables are passed on). */
  env: Readonly<Record<string, string | undefined>>;
}

const PASSED_ENV = ["PATH", "HOME", "LANG", "LC_ALL", "TZ", "TMPDIR"];

class NodeCommandError extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

async function which(bin: string, path: string): Promise<string | undefined> {
  if (bin.includes("/") || bin.includes("\\")) return undefined;
  for (const directory of path.split(delimiter)) {
    if (!directory) continue;
    const candidate = join(directory, bin);
    try {
      await access(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not here
    }
  }
  return undefined;
}

function stringList(value: unknown, what: string): string[] {
  if (!Array.isArray(value) || value.length === 0 || value.some((item) => typeof item !== "string" || !item))
    throw new NodeCommandError("INVALID_PARAMS", `${what} must be a non-empty list of strings`);
  return value as string[];
}

/** The commands of the node host, by name. */
export function nodeHostCommands(options: NodeHostOptions): Record<string, NodeCommandHandler> {
  const path = options.env.PATH ?? "";
  const maxTimeoutMs = options.maxTimeoutMs ?? 30_000;
  const maxOutputBytes = options.maxOutputBytes ?? 64 * 1024;
  const commands: Record<string, NodeCommandHandler> = {
    async "system.which"(params) {
      const bins = stringList((params as { bins?: unknown } | undefined)?.bins, "bins");
      const found: Record<string, string> = {};
      for (const bin of bins) {
        const location = await which(bin, path);
        if (location) found[bin] = location;
      }
      return { bins: found };
    },
  };
  if (options.allowRun.length === 0) return commands;
  commands["system.run"] = async (params) => {
    const input = (params ?? {}) as { command?: unknown; cwd?: unknown; timeoutMs?: unknown };
    const argv = stringList(input.command, "command (argv, no shell)");
    const program = argv[0]!;
    const allowed = options.allowRun.some((entry) =>
      isAbsolute(entry) ? entry === program : entry === program && !program.includes("/"),
    );
    if (!allowed)
      throw new NodeCommandError(
        "NOT_ALLOWED",
        `${basename(program)} is not in this node's allowlist (gateway node run --allow-run ${options.allowRun.join(",")})`,
      );
    const executable = isAbsolute(program) ? program : await which(program, path);
    if (!executable) throw new NodeCommandError("NOT_FOUND", `${program} is not on this node's PATH`);
    const timeoutMs = Math.min(
      typeof input.timeoutMs === "number" && input.timeoutMs > 0 ? input.timeoutMs : maxTimeoutMs,
      maxTimeoutMs,
    );
    const env = Object.fromEntries(
      PASSED_ENV.filter((name) => options.env[name] !== undefined).map((name) => [name, options.env[name]!]),
    );
    return await new Promise((resolve, reject) => {
      const child = spawn(executable, argv.slice(1), {
        shell: false,
        env,
        ...(typeof input.cwd === "string" ? { cwd: input.cwd } : {}),
        stdio: ["ignore", "pipe", "pipe"],
      });
      const output = { stdout: "", stderr: "", truncated: false };
      const collect = (stream: "stdout" | "stderr") => (chunk: Buffer) => {
        const room = maxOutputBytes - Buffer.byteLength(output[stream]);
        if (room <= 0) {
          output.truncated = true;
          return;
        }
        if (chunk.length > room) output.truncated = true;
        output[stream] += chunk.subarray(0, room).toString("utf8");
      };
      child.stdout.on("data", collect("stdout"));
      child.stderr.on("data", collect("stderr"));
      let timedOut = false;
      const timer = setTimeout(() => {
        timedOut = true;
        child.kill("SIGKILL");
      }, timeoutMs);
      child.once("error", (error) => {
        clearTimeout(timer);
        reject(new NodeCommandError("SPAWN_FAILED", `could not start ${program}: ${error.message}`));
      });
      child.once("close", (exitCode, signal) => {
        clearTimeout(timer);
        resolve({ exitCode, signal, timedOut, ...output });
      });
    });
  };
  return commands;
}
