// The built gateway as a user runs it: a real process on a free port in its own state dir, and the CLI against it.
// Everything started here is stopped (and every temp dir removed) after the test file.
import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
// @ts-expect-error -- a plain .mjs helper of the private vitest preset
import { runProcess } from "@gateway/vitest-preset/run-process";
import { until } from "@gateway/vitest-preset/wait";
import { afterAll } from "vitest";
import { type RawData, WebSocket } from "ws";

/** The built binary (`npx turbo run build --filter=gateway` first). */
export const main = join(dirname(fileURLToPath(import.meta.url)), "..", "..", "dist", "main.js");

/** What a finished process printed. */
export type Result = { code: number | null; stdout: string; stderr: string };

const cleanups: Array<() => unknown> = [];
afterAll(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

/** Run `cleanup` after the test file (in reverse order of registration). */
export function onCleanup(cleanup: () => unknown): void {
  cleanups.push(cleanup);
}

/** A port nothing listens on right now. */
export async function freePort(): Promise<number> {
  const probe = createServer();
  await new Promise<void>((resolve) => probe.listen(0, "127.0.0.1", resolve));
  const port = (probe.address() as { port: number }).port;
  await new Promise((resolve) => probe.close(resolve));
  return port;
}

/** A temp dir removed after the test file. */
export function tempDir(prefix: string): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** A running gateway process. */
export interface GatewayProcess {
  port: number;
  child: ChildProcess;
  /** SIGTERM (unless it already exited), resolving with its exit code. */
  stop(): Promise<number | null>;
  /** Resolves with the exit code when it exits. */
  exited: Promise<number | null>;
  /** Everything it printed so far (stdout and stderr). */
  output(): string;
}

/** A gateway process in its own state dir, with JSON logs; resolves once it listens. */
export async function startGateway(
  stateDir: string,
  env: Record<string, string> = {},
  extraArgs: string[] = [],
  /** The port (when the config must name it, e.g. a webhook URL). @default a free one */
  port?: number,
): Promise<GatewayProcess> {
  port ??= await freePort();
  const child: ChildProcess = spawn(
    process.execPath,
    [main, "run", "--port", String(port), "--state-dir", stateDir, "--json-logs", ...extraArgs],
    { env: { ...process.env, GATEWAY_TOKEN: "", GATEWAY_URL: "", ...env }, stdio: ["ignore", "pipe", "pipe"] },
  );
  let output = "";
  child.stdout!.on("data", (chunk) => {
    output += chunk;
  });
  child.stderr!.on("data", (chunk) => {
    output += chunk;
  });
  const exited = new Promise<number | null>((resolve) => child.once("exit", resolve));
  await until(() => output.includes("listening on") || child.exitCode !== null, {
    timeoutMs: 30_000,
    message: "the gateway listening (or exiting)",
  });
  if (child.exitCode !== null) throw new Error(`the gateway did not start:\n${output}`);
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) child.kill("SIGTERM");
    return exited;
  };
  cleanups.push(stop);
  return { port, child, stop, exited, output: () => output };
}

/** Build the app when `file` (in its dist) is missing: a test run without `turbo build` first still works. */
export function ensureBuilt(file = "main.js"): void {
  const appDir = join(dirname(main), "..");
  if (!existsSync(join(appDir, "dist", file)))
    spawnSync(process.execPath, [join(appDir, "node_modules", "tsup", "dist", "cli-default.js")], { cwd: appDir });
}

/** The CLI of the built binary against the gateway of `stateDir`. */
export function cli(
  stateDir: string,
  args: string[],
  env: Record<string, string> = {},
  input?: string,
): Promise<Result> {
  return runProcess(process.execPath, [main, ...args, "--state-dir", stateDir], {
    env: { GATEWAY_TOKEN: "", GATEWAY_URL: "", NO_COLOR: "1", ...env },
    ...(input !== undefined ? { input } : {}),
  });
}

/** A bash command line (pipes, redirections) with the gateway's variables cleared. */
export function shell(command: string, env: Record<string, string> = {}): Promise<Result> {
  return runProcess("bash", ["-c", command], { env: { GATEWAY_TOKEN: "", GATEWAY_URL: "", ...env } });
}

/**
 * A bare WebSocket that has completed `connect` (as the CLI unless `client` says otherwise, with `token`): for tests that must send what no client
 * library would (raw frames, floods). Rejects when the gateway refuses the handshake.
 */
export function rawConnect(
  port: number,
  token: string,
  scopes: string[] = ["operator.read"],
  client: Record<string, string> = { id: "cli", version: "1", platform: "linux", mode: "cli" },
): Promise<WebSocket> {
  const socket = new WebSocket(`ws://127.0.0.1:${port}`);
  return new Promise((resolve, reject) => {
    socket.on("error", reject);
    const onMessage = (data: RawData) => {
      const frame = JSON.parse(data.toString()) as { event?: string; id?: string; ok?: boolean; error?: unknown };
      if (frame.event === "connect.challenge")
        socket.send(
          JSON.stringify({
            type: "req",
            id: "connect",
            method: "connect",
            params: {
              minProtocol: 4,
              maxProtocol: 4,
              client,
              auth: { token },
              scopes,
            },
          }),
        );
      else if (frame.id === "connect") {
        socket.off("message", onMessage);
        if (frame.ok) resolve(socket);
        else reject(new Error(`connect refused: ${JSON.stringify(frame.error)}`));
      }
    };
    socket.on("message", onMessage);
  });
}
