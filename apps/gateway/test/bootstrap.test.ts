// `npm start` (tooling/scripts/bootstrap.mjs) as a user runs it: only our own progress lines before the banner,
// `npm start -- --help` shows run's options, and Ctrl-C (SIGINT to the whole process group, as a terminal sends it)
// returns only once the gateway has stopped, saying so.
import { spawn } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
// @ts-expect-error -- a plain .mjs helper of the private vitest preset
import { runProcess } from "@gateway/vitest-preset/run-process";
import { waitForLog } from "@gateway/vitest-preset/wait";
import { afterAll, expect, it } from "vitest";

const root = join(dirname(fileURLToPath(import.meta.url)), "..", "..", "..");
const bootstrap = join(root, "tooling", "scripts", "bootstrap.mjs");
const stateDir = mkdtempSync(join(tmpdir(), "gateway-bootstrap-"));
afterAll(() => rmSync(stateDir, { recursive: true, force: true }));

it("npm start -- --help shows run's options", async () => {
  const result = (await runProcess(process.execPath, [bootstrap, "start", "--help"], { cwd: root })) as {
    stdout: string;
    stderr: string;
  };
  expect(result.stdout).toMatch(/Usage: gateway \[run\] \[options\]/);
  expect(result.stderr).not.toMatch(/stopped/);
  expect(result.stdout).toMatch(/--port <n>/);
});

it("Ctrl-C: the prompt comes back after the gateway stopped, and it says so", async () => {
  const child = spawn(process.execPath, [bootstrap, "start", "--port", "0", "--state-dir", stateDir], {
    cwd: root,
    detached: true, // its own process group, like a terminal's foreground job
    env: { ...process.env, GATEWAY_TOKEN: "" },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let stdout = "";
  let stderr = "";
  child.stdout!.on("data", (chunk) => {
    stdout += chunk;
  });
  child.stderr!.on("data", (chunk) => {
    stderr += chunk;
  });
  const exited = new Promise<number | null>((resolve) => child.once("exit", resolve));
  await waitForLog(() => stdout, /stop {7}Ctrl-C/, { timeoutMs: 60_000, intervalMs: 50 }).catch((error: Error) => {
    throw new Error(`${error.message}; it printed:\n${stdout}${stderr}`);
  });
  expect(stdout).toMatch(/Gateway 0\.1\.0 listening on/);
  // Before the banner: our own step lines only (a build step when the bundle was stale), nothing from the tools.
  for (const line of stderr.split("\n").filter(Boolean)) expect(line).toMatch(/^› .+ \(\d+\.\d s\)$/);
  const gatewayPid = JSON.parse(readFileSync(join(stateDir, "gateway.run.json"), "utf8")).pid as number;
  process.kill(-child.pid!, "SIGINT");
  expect(await exited).toBe(0);
  // By the time the bootstrap exits, the gateway process is gone and its run file removed.
  expect(() => process.kill(gatewayPid, 0)).toThrow();
  expect(existsSync(join(stateDir, "gateway.run.json"))).toBe(false);
  expect(stderr).toMatch(/✔ Gateway stopped\.\n$/);
}, 90_000);
