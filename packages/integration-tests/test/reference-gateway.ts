// The reference implementation's own gateway (`openclaw gateway run`), started isolated in a temporary home for a
// test file: token auth on a free loopback port, stopped (SIGTERM, then SIGKILL) and its home removed afterwards.
import { type ChildProcess, spawn } from "node:child_process";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { checkAvailable, eventually } from "@gateway/vitest-preset/wait";
import { expect } from "vitest";
import { referenceEnv, referencePaths } from "../../../tooling/interop/reference.mjs";

export const reference = referencePaths() as { dir: string; cli: string };
export const haveReference = checkAvailable(
  existsSync(join(reference.dir, ".complete")),
  `the reference implementation (node tooling/interop/reference.mjs installs it into ${reference.dir})`,
);
export const REFERENCE_TOKEN = "reference-gateway-token-0123456789";

export async function freePort(): Promise<number> {
  const probe = createServer();
  await new Promise<void>((resolve) => probe.listen(0, "127.0.0.1", resolve));
  const { port } = probe.address() as { port: number };
  await new Promise((resolve) => probe.close(resolve));
  return port;
}

export interface ReferenceGateway {
  url: string;
  home: string;
  /** Everything it printed so far (stdout and stderr). */
  output(): string;
  stop(): Promise<void>;
}

/** Start the reference's gateway and wait for its `[gateway] ready` line. */
export async function startReferenceGateway(): Promise<ReferenceGateway> {
  const home = mkdtempSync(join(tmpdir(), "reference-gateway-"));
  const port = await freePort();
  let output = "";
  const gateway: ChildProcess = spawn(
    process.execPath,
    [
      reference.cli,
      "gateway",
      "run",
      "--allow-unconfigured",
      "--auth",
      "token",
      "--token",
      REFERENCE_TOKEN,
      "--port",
      String(port),
      "--bind",
      "loopback",
    ],
    { env: referenceEnv(home), stdio: ["ignore", "pipe", "pipe"] },
  );
  gateway.stdout?.on("data", (chunk) => {
    output += chunk;
  });
  gateway.stderr?.on("data", (chunk) => {
    output += chunk;
  });
  const stop = async () => {
    if (gateway.exitCode === null && gateway.signalCode === null) {
      const exited = new Promise((resolve) => gateway.once("exit", resolve));
      gateway.kill("SIGTERM");
      await Promise.race([exited, new Promise((resolve) => setTimeout(resolve, 5_000))]);
      if (gateway.exitCode === null) gateway.kill("SIGKILL");
    }
    rmSync(home, { recursive: true, force: true });
  };
  try {
    await eventually(() => expect(output).toMatch(/\[gateway\] ready/), { timeoutMs: 60_000, intervalMs: 100 });
  } catch (error) {
    await stop();
    throw error;
  }
  return { url: `ws://127.0.0.1:${port}`, home, output: () => output, stop };
}
