#!/usr/bin/env node
// The first `npm start` of a fresh clone: clone this checkout into a temp dir (no node_modules, no dist), run
// `npm start` there, and time it until the gateway listens; then Ctrl-C it (SIGINT to the process group) and time
// the stop. Reports every line printed before the banner that is not one of our own step lines (the target: none).
// Standalone: `node bench/first-start.mjs [--fresh-store]` prints JSON; bench/run.mjs may import `measureFirstStart`.
// --fresh-store uses an empty pnpm store (every package downloaded, as on a new machine) instead of this machine's.
import { spawn, spawnSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { performance } from "node:perf_hooks";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");

/** Time a first start in a fresh clone. */
export async function measureFirstStart({ freshStore = false, timeoutMs = 300_000 } = {}) {
  const work = mkdtempSync(join(tmpdir(), "gateway-first-start-"));
  const clone = join(work, "clone");
  try {
    const cloned = spawnSync("git", ["clone", "--quiet", "--local", root, clone], { encoding: "utf8" });
    if (cloned.status !== 0) throw new Error(`git clone failed: ${cloned.stderr}`);
    const env = {
      ...process.env,
      GATEWAY_TOKEN: "",
      ...(freshStore ? { npm_config_store_dir: join(work, "store"), npm_config_cache: join(work, "npm-cache") } : {}),
    };
    const started = performance.now();
    const child = spawn("npm", ["start", "--", "--port", "0", "--state-dir", join(work, "state")], {
      cwd: clone,
      env,
      detached: true,
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
    const exited = new Promise((resolve) => child.once("exit", (code) => resolve(code)));
    const deadline = Date.now() + timeoutMs;
    while (!/listening on ws:\/\//.test(stdout)) {
      if (Date.now() > deadline || child.exitCode !== null)
        throw new Error(`no gateway after ${timeoutMs} ms:\n${stdout}\n${stderr}`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    const listeningMs = performance.now() - started;
    const beforeBanner = `${stderr}\n${stdout.slice(0, stdout.indexOf("Gateway "))}`
      .split("\n")
      .filter((line) => line.trim() && !/^> /.test(line) && !/^\{"level"/.test(line) && !/^\[\d\d:\d\d/.test(line));
    const steps = beforeBanner.filter((line) => /^› .+ \(\d+\.\d s\)$/.test(line));
    const foreign = beforeBanner.filter((line) => !steps.includes(line) && !/^\s/.test(line));
    const stopAt = performance.now();
    process.kill(-child.pid, "SIGINT");
    const code = await exited;
    return {
      freshStore,
      listeningMs: Math.round(listeningMs),
      stopMs: Math.round(performance.now() - stopAt),
      exitCode: code,
      said: /Gateway stopped/.test(stderr),
      steps,
      foreign,
    };
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const result = await measureFirstStart({ freshStore: process.argv.includes("--fresh-store") });
  process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
}
