// The reference implementation's CLI (`openclaw`, pinned) against a gateway of ours started in this process
// (createGateway, port 0, a temp state dir). The CLI runs in its own HOME, pointed at our gateway through its own
// config file (`gateway.mode: "remote"`), offline and without telemetry; it is spawned asynchronously so the gateway in
// this process keeps answering it.
import { spawn } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createGateway, type Gateway } from "@gateway/gateway";
import { checkAvailable } from "@gateway/vitest-preset/wait";
import {
  ensureReference,
  REFERENCE_VERSION,
  type ReferencePaths,
  referenceDir,
  referenceEnv,
  referencePaths,
} from "../../../../tooling/interop/reference.mjs";

export const TOKEN = "interop-token-0123456789abcdef";

/**
 * The installed reference, or undefined (a loud skip) when it is not installed here. Under CI (`CI=true`) it is
 * installed on first use (from the npm registry, into a cache outside the repository), so CI never skips.
 */
export function referenceOrSkip(): ReferencePaths | undefined {
  if (existsSync(join(referenceDir(), ".complete"))) return referencePaths();
  if (process.env.CI === "true") return ensureReference();
  checkAvailable(
    false,
    `the reference implementation openclaw@${REFERENCE_VERSION} (install it with \`node tooling/interop/reference.mjs\`, ~670 MB, into ${referenceDir()})`,
  );
  return undefined;
}

/** What one CLI command did. */
export interface CliRun {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** A gateway of ours and the reference's CLI pointed at it. */
export interface InteropGateway {
  gateway: Gateway;
  url: string;
  stateDir: string;
  /** The reference CLI's HOME (its config, its state). */
  home: string;
  /** Run `openclaw <args>` against the gateway. */
  cli(args: string[], options?: { timeoutMs?: number }): Promise<CliRun>;
  /** `openclaw gateway call <method> --params <json> --json`, parsed; throws with the CLI's output when it fails. */
  call<T = any>(method: string, params?: Record<string, unknown>): Promise<T>;
  close(): Promise<void>;
}

/** Start a gateway (token auth, port 0) with `config` laid over, and point a fresh reference CLI home at it. */
export async function startInteropGateway(
  reference: ReferencePaths,
  config: Record<string, unknown> = {},
): Promise<InteropGateway> {
  const stateDir = mkdtempSync(join(tmpdir(), "gateway-interop-"));
  const gatewayConfig = (config.gateway ?? {}) as Record<string, unknown>;
  writeFileSync(
    join(stateDir, "gateway.json5"),
    JSON.stringify({ ...config, gateway: { port: 0, auth: { mode: "token", token: TOKEN }, ...gatewayConfig } }),
    { mode: 0o600 },
  );
  const gateway = createGateway({ stateDir, version: "0.0.0-interop", logging: { stdout: false } });
  const address = await gateway.listen();
  const home = join(stateDir, "reference-home");
  mkdirSync(join(home, ".openclaw"), { recursive: true });
  writeFileSync(
    join(home, ".openclaw", "openclaw.json"),
    JSON.stringify({ gateway: { mode: "remote", remote: { url: address.url, token: TOKEN } } }),
  );
  const cli = (args: string[], options: { timeoutMs?: number } = {}) =>
    runReferenceCli(reference, home, args, options.timeoutMs ?? 60_000);
  return {
    gateway,
    url: address.url,
    stateDir,
    home,
    cli,
    async call(method, params = {}) {
      const run = await cli(["gateway", "call", method, "--params", JSON.stringify(params), "--json"]);
      if (run.code !== 0)
        throw new Error(`openclaw gateway call ${method} exited ${run.code}:\n${run.stdout}\n${run.stderr}`);
      return JSON.parse(run.stdout);
    },
    async close() {
      await gateway.close();
      rmSync(stateDir, { recursive: true, force: true });
    },
  };
}

/** Run the reference CLI to completion (killed after `timeoutMs`), without blocking this process's event loop. */
export function runReferenceCli(
  reference: ReferencePaths,
  home: string,
  args: string[],
  timeoutMs: number,
): Promise<CliRun> {
  const child = spawn(process.execPath, [reference.cli, ...args], {
    cwd: home,
    env: referenceEnv(home),
    stdio: ["ignore", "pipe", "pipe"],
  });
  let stdout = "";
  let stderr = "";
  child.stdout.on("data", (chunk) => {
    stdout += chunk;
  });
  child.stderr.on("data", (chunk) => {
    stderr += chunk;
  });
  const timer = setTimeout(() => {
    stderr += `\n[killed after ${timeoutMs} ms]`;
    child.kill("SIGKILL");
  }, timeoutMs);
  return new Promise((resolve, reject) => {
    child.once("error", reject);
    child.once("close", (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}
