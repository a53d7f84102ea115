#!/usr/bin/env node
// `npm start` and `npm test` on a fresh clone: check Node, install dependencies with pnpm on first use (or when the
// lockfile changed), build, then run the gateway or the whole test suite. Needs only Node >= 22.19 and npm.
import { spawnSync } from "node:child_process";
import { existsSync, statSync } from "node:fs";
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
    `Node ${process.versions.node} is too old: Gateway needs Node >= 22.19.\n` +
      "  Install a current Node (https://nodejs.org), or without root:\n" +
      "    npm i --prefix ~/.cache/node24 --no-save node@24 && export PATH=~/.cache/node24/node_modules/node/bin:$PATH",
  );
}

// Turbo looks for the workspace's package manager on PATH; the pinned pnpm devDependency provides it.
const env = { ...process.env, PATH: `${join(root, "node_modules", ".bin")}:${process.env.PATH ?? ""}` };

function run(command, args, label) {
  if (label) console.error(`› ${label}`);
  const result = spawnSync(command, args, { cwd: root, stdio: "inherit", env });
  if (result.error) fail(`${label ?? command} could not start: ${result.error.message}`);
  return result.status ?? 1;
}

const pnpm = pnpmCommand();
const modules = join(root, "node_modules", ".modules.yaml");
const lockfile = join(root, "pnpm-lock.yaml");
if (!existsSync(modules) || statSync(lockfile).mtimeMs > statSync(modules).mtimeMs) {
  const frozen = process.env.CI ? ["--frozen-lockfile"] : [];
  const status = run(pnpm.command, [...pnpm.args, "install", ...frozen], "Installing dependencies (first run only)…");
  if (status !== 0)
    fail("Dependency install failed; see the output above. Check your network access to the npm registry.");
}

const bin = (name) => join(root, "node_modules", ".bin", name);

if (task === "start") {
  if (run(bin("turbo"), ["run", "build", "--filter=gateway...", "--output-logs=errors-only"], "Building…") !== 0) {
    fail("Build failed; see the output above.");
  }
  process.exit(run(process.execPath, [join(root, "apps", "gateway", "dist", "main.js"), ...rest]));
} else if (task === "gateway") {
  // `npx gateway …` in a clone (the root package's bin): build the app once, then run the command as asked.
  const main = join(root, "apps", "gateway", "dist", "main.js");
  if (!existsSync(main)) {
    if (run(bin("turbo"), ["run", "build", "--filter=gateway...", "--output-logs=errors-only"], "Building…") !== 0)
      fail("Build failed; see the output above.");
  }
  process.exit(run(process.execPath, [main, ...rest]));
} else if (task === "test") {
  if (run(bin("turbo"), ["run", "build", "--output-logs=errors-only"], "Building packages…") !== 0) {
    fail("Build failed; see the output above.");
  }
  process.exit(run(bin("vitest"), ["run", ...rest], "Running the test suite…"));
} else {
  fail(`unknown task ${task ?? "(none)"}: use start, test or gateway`);
}
