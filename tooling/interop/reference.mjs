// The reference implementation (the `openclaw` npm package) for interop tests: one pinned version installed on first
// use into a cache outside the repository (it is ~520 MB, so it is never a workspace dependency and a fresh
// `npm test` never pulls it). Its CLI, GatewayClient, node host and Control UI bundle are the oracle our gateway is
// tested against.
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { homedir } from "node:os";
import { dirname, join } from "node:path";

/** The pinned reference version (the same release as the `@openclaw/gateway-protocol` schema we check against). */
export const REFERENCE_VERSION = "2026.9.1";

/** Where the reference is installed: `$GATEWAY_INTEROP_CACHE` or `~/.cache/gateway-interop`, one dir per version. */
export function referenceDir(version = REFERENCE_VERSION) {
  const cache =
    process.env.GATEWAY_INTEROP_CACHE ??
    join(process.env.XDG_CACHE_HOME ?? join(homedir(), ".cache"), "gateway-interop");
  return join(cache, `openclaw-${version}`);
}

/** Paths inside an installed reference. */
export function referencePaths(dir = referenceDir()) {
  const pkg = join(dir, "node_modules", "openclaw");
  return { dir, pkg, cli: join(pkg, "openclaw.mjs"), controlUi: join(pkg, "dist", "control-ui") };
}

/**
 * Install the reference when it is not there yet, saying so with progress on stderr; resolve to its paths.
 * Installs into a temporary sibling then renames it, so an interrupted install never leaves a half-installed copy.
 * Lifecycle scripts are skipped: nothing the tests use needs them, and they would build native addons.
 */
export function ensureReference({
  version = REFERENCE_VERSION,
  log = (line) => process.stderr.write(`${line}\n`),
} = {}) {
  const dir = referenceDir(version);
  const paths = referencePaths(dir);
  if (existsSync(join(dir, ".complete"))) return paths;
  const started = performance.now();
  log(`› installing the reference implementation openclaw@${version} into ${dir} (first run only, ~520 MB)…`);
  const staging = `${dir}.partial-${process.pid}`;
  rmSync(staging, { recursive: true, force: true });
  mkdirSync(staging, { recursive: true });
  writeFileSync(join(staging, "package.json"), '{ "private": true }\n');
  const npm = join(dirname(process.execPath), process.platform === "win32" ? "npm.cmd" : "npm");
  const result = spawnSync(
    existsSync(npm) ? npm : "npm",
    ["install", "--no-audit", "--no-fund", "--ignore-scripts", "--loglevel=error", `openclaw@${version}`],
    { cwd: staging, encoding: "utf8", env: { ...process.env, npm_config_update_notifier: "false" } },
  );
  if (result.status !== 0) {
    rmSync(staging, { recursive: true, force: true });
    throw new Error(
      `installing openclaw@${version} failed (exit ${result.status ?? result.error?.message}); check access to the npm registry\n${result.stderr ?? ""}`,
    );
  }
  writeFileSync(join(staging, ".complete"), `${new Date().toISOString()}\n`);
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dirname(dir), { recursive: true });
  renameSync(staging, dir);
  log(`› installed openclaw@${version} (${((performance.now() - started) / 1000).toFixed(1)} s)`);
  return paths;
}

/**
 * The environment the reference runs in: its own HOME (so it never reads or writes the user's ~/.openclaw), no
 * telemetry, no auto-update, no Bonjour, and every proxied request pointed at a dead local port so nothing leaves
 * the machine.
 */
export function referenceEnv(home, extra = {}) {
  return {
    PATH: process.env.PATH ?? "",
    HOME: home,
    OPENCLAW_STATE_DIR: join(home, ".openclaw"),
    DO_NOT_TRACK: "1",
    OPENCLAW_NO_AUTO_UPDATE: "1",
    OPENCLAW_DISABLE_BONJOUR: "1",
    NO_COLOR: "1",
    HTTP_PROXY: "http://127.0.0.1:9",
    HTTPS_PROXY: "http://127.0.0.1:9",
    NO_PROXY: "127.0.0.1,localhost,::1",
    NODE_USE_ENV_PROXY: "1",
    ...extra,
  };
}

// `node tooling/interop/reference.mjs` installs it ahead of time and prints where.
if (import.meta.url === `file://${process.argv[1]}`) {
  const paths = ensureReference();
  process.stdout.write(`${paths.cli}\n`);
}
