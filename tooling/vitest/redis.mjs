// Redis for tests: REDIS_URL, else 127.0.0.1:6379, else a throwaway `redis-server` on a free port when the binary
// exists. Only when none can be had do the tests skip — loudly, and never under CI=true (there they fail).
import { spawn, spawnSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { createConnection, createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";

function reachable(host, port) {
  return new Promise((resolve) => {
    const socket = createConnection({ host, port });
    socket.setTimeout(500);
    socket.once("connect", () => {
      socket.end("PING\r\n");
      resolve(true);
    });
    socket.once("error", () => resolve(false));
    socket.once("timeout", () => {
      socket.destroy();
      resolve(false);
    });
  });
}

export function freePort() {
  return new Promise((resolve) => {
    const server = createServer();
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

/** Whether a `redis-server` binary is on PATH. */
export const hasRedisServer = () => spawnSync("redis-server", ["--version"], { stdio: "ignore" }).status === 0;

/**
 * A throwaway redis-server on `port` (a free one by default) with append-only persistence, so a restart on the same
 * port and dir keeps the data. Resolves when it accepts connections.
 * @param {{ port?: number; dir?: string; fsync?: "always" | "everysec" }} [options] fsync: `always` (default) for
 *   the restart tests, `everysec` (Redis's own default) for measuring
 */
export async function startRedisServer(options = {}) {
  const port = options.port ?? (await freePort());
  const dir = options.dir ?? mkdtempSync(join(tmpdir(), "gateway-redis-"));
  const child = spawn(
    "redis-server",
    [
      "--port",
      String(port),
      "--bind",
      "127.0.0.1",
      "--dir",
      dir,
      "--save",
      "",
      "--appendonly",
      "yes",
      "--appendfsync",
      options.fsync ?? "always",
    ],
    { stdio: "ignore" },
  );
  let up = false;
  for (let attempt = 0; attempt < 100 && !up; attempt++) {
    up = await reachable("127.0.0.1", port);
    if (!up) await new Promise((resolve) => setTimeout(resolve, 50));
  }
  if (!up) {
    child.kill("SIGKILL");
    throw new Error(`redis-server on port ${port} did not accept connections within 5 s`);
  }
  return {
    url: `redis://127.0.0.1:${port}`,
    port,
    dir,
    /** Stop it (SIGKILL: an outage, not a shutdown); the data stays in `dir` for a restart. */
    async kill() {
      child.kill("SIGKILL");
      await new Promise((resolve) => child.once("exit", resolve));
    },
    async stop() {
      child.kill("SIGTERM");
      await new Promise((resolve) => child.once("exit", resolve));
      if (!options.dir) rmSync(dir, { recursive: true, force: true });
    },
  };
}

/**
 * The Redis the tests use: `{ url, stop() }`, or undefined when none can be had (outside CI only; a warning says so).
 * @returns {Promise<{ url: string; stop(): Promise<void> } | undefined>}
 */
export async function useRedis() {
  if (process.env.REDIS_URL) return { url: process.env.REDIS_URL, stop: async () => {} };
  if (await reachable("127.0.0.1", 6379)) return { url: "redis://127.0.0.1:6379", stop: async () => {} };
  if (hasRedisServer()) {
    const server = await startRedisServer();
    return { url: server.url, stop: () => server.stop() };
  }
  if (process.env.CI === "true")
    throw new Error("no Redis: set REDIS_URL, run one on 127.0.0.1:6379, or install redis-server (CI must not skip)");
  console.warn("\n⚠ SKIPPING Redis tests: no REDIS_URL, nothing on 127.0.0.1:6379, no redis-server binary\n");
  return undefined;
}
