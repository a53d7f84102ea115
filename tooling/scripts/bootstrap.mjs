#!/usr/bin/env node
// `npm start` and `npm test` on a fresh clone: check Node, install dependencies with pnpm on first use (or when the
// lockfile changed), build, then run the gateway or the whole test suite. Needs only Node >= 22.19 and npm.
// A user sees our own progress only — one line per step with its time — and the tools' own output only when a step
// fails.
import { spawn, spawnSync } from "node:child_process";
import { existsSync, readdirSync, statSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { pnpmCommand } from "./pnpm.mjs";

const root = join(dirname(fileURLToPath(import.meta.url)), "..", "..");
const [task, ...rest] = process.argv.slice(2);

function fail(message) {
  console.error(`\n✖ ${message}`);
  process.exit(1);
}

const [major, minor] = process.versions.node.split(".").map(Number);
if (major < 22 || (major === 22 && minor < 19)) {
  fail(
    `Node ≥ 22.19 is needed; this is Node ${process.versions.node}. Here is how to get it:\n` +
      "    with nvm:     nvm install 24 && nvm use 24\n" +
      "    without root: npm i --prefix ~/.cache/node24 --no-save node@24 && export PATH=~/.cache/node24/node_modules/node/bin:$PATH\n" +
      "    or a package from https://nodejs.org/en/download",
  );
}

// Turbo looks for the workspace's package manager on PATH; the pinned pnpm devDependency provides it. The tools'
// notices (update boxes, telemetry) are not for a user starting the gateway.
const env = {
  ...process.env,
  PATH: `${join(root, "node_modules", ".bin")}:${process.env.PATH ?? ""}`,
  npm_config_update_notifier: "false",
  NO_UPDATE_NOTIFIER: "1",
  TURBO_TELEMETRY_DISABLED: "1",
  TURBO_NO_UPDATE_NOTIFIER: "1",
  DO_NOT_TRACK: "1",
};

const seconds = (since) => `${((performance.now() - since) / 1000).toFixed(1)} s`;

/** Run a step quietly: one line with its time; its output only when it fails. */
function step(label, command, args, options = {}) {
  const started = performance.now();
  if (process.stderr.isTTY) process.stderr.write(`› ${label}…`);
  const result = spawnSync(command, args, {
    cwd: options.cwd ?? root,
    env,
    encoding: "utf8",
    maxBuffer: 64 * 1024 * 1024,
  });
  const line = `› ${label} (${seconds(started)})`;
  process.stderr.write(process.stderr.isTTY ? `\r\x1b[2K${line}\n` : `${line}\n`);
  if (result.error) fail(`${label} could not start: ${result.error.message}`);
  if (result.status !== 0) {
    process.stderr.write(`${result.stdout ?? ""}${result.stderr ?? ""}`);
    fail(`${label} failed; see the output above.${options.hint ? ` ${options.hint}` : ""}`);
  }
}

/** The newest modification time of the files under `dir` (skipping dependencies and build output). */
function newest(dir) {
  let latest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    if (entry.name === "node_modules" || entry.name === "dist" || entry.name.startsWith(".")) continue;
    const path = join(dir, entry.name);
    latest = Math.max(latest, entry.isDirectory() ? newest(path) : statSync(path).mtimeMs);
  }
  return latest;
}

const pnpm = pnpmCommand();
const modules = join(root, "node_modules", ".modules.yaml");
const lockfile = join(root, "pnpm-lock.yaml");
if (!existsSync(modules) || statSync(lockfile).mtimeMs > statSync(modules).mtimeMs) {
  const frozen = process.env.CI ? ["--frozen-lockfile"] : [];
  step(
    "Installing dependencies (first run only)",
    pnpm.command,
    [...pnpm.args, "install", "--reporter=silent", ...frozen],
    {
      hint: "Check your network access to the npm registry.",
    },
  );
}

const bin = (name) => join(root, "node_modules", ".bin", name);

/**
 * Build the app when its bundle is older than any source (it bundles our packages from their sources: one esbuild
 * step, and none when nothing changed), run it with `args`, and resolve to its exit code.
 */
function runGateway(args, { start }) {
  const app = join(root, "apps", "gateway");
  const bundle = join(app, "dist", "main.js");
  const sources = Math.max(
    newest(join(root, "packages")),
    newest(join(app, "src")),
    statSync(join(app, "tsup.config.ts")).mtimeMs,
  );
  if (!existsSync(bundle) || statSync(bundle).mtimeMs < sources)
    step("Building the gateway", bin("tsup"), [], { cwd: app });
  // The gateway handles Ctrl-C itself (it reaches the whole process group): wait for it to finish stopping, so the
  // prompt comes back only once it has.
  const child = spawn(process.execPath, [bundle, ...args], {
    cwd: process.cwd(),
    stdio: "inherit",
    env: start ? { ...process.env, GATEWAY_START: "1" } : process.env,
  });
  let signalled = false;
  for (const signal of ["SIGINT", "SIGTERM", "SIGHUP"])
    process.on(signal, () => {
      signalled = true;
      // A terminal's Ctrl-C already reached the child; a SIGTERM sent to us alone is passed on.
      if (signal !== "SIGINT") child.kill(signal);
    });
  return new Promise((resolve) => {
    child.on("exit", (code, signal) => {
      // A gateway that could not start said why itself; one that ran and stopped says so here.
      const informational = args.some((arg) => ["--help", "-h", "--version"].includes(arg));
      if (start && !informational && (signalled || signal || code === 0)) process.stderr.write("✔ Gateway stopped.\n");
      resolve(code ?? (signal ? 0 : 1));
    });
  });
}

if (task === "start") {
  process.exit(await runGateway(rest, { start: true }));
} else if (task === "gateway") {
  // `npx gateway …` in a clone (the root package's bin): the same app, run with the command as asked.
  process.exit(await runGateway(rest, { start: false }));
} else if (task === "test") {
  step("Building packages", bin("turbo"), ["run", "build", "--output-logs=errors-only"]);
  const result = spawnSync(bin("vitest"), ["run", ...rest], { cwd: root, stdio: "inherit", env });
  process.exit(result.status ?? 1);
} else {
  fail(`unknown task ${task ?? "(none)"}: use start, test or gateway`);
}
