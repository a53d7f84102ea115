// The composition as a library: a gateway started in-process on port 0 answers a real client, runs a chat turn
// through the echo agent, holds its state directory against a second gateway, and lets it go when closed.
import { chmodSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createGatewayClient } from "@gateway/client";
import { STATE_LOCK_FILE } from "@gateway/state";
import { until } from "@gateway/vitest-preset/wait";
import { afterEach, describe, expect, it } from "vitest";
import { createGateway, type Gateway } from "../src/index.js";

const TOKEN = "library-test-token-0123456789";
const dirs: string[] = [];
const gateways: Gateway[] = [];
afterEach(async () => {
  for (const gateway of gateways.splice(0)) await gateway.close();
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

function stateDirWithConfig(config: Record<string, unknown> = {}): string {
  const stateDir = mkdtempSync(join(tmpdir(), "gateway-library-"));
  dirs.push(stateDir);
  writeFileSync(
    join(stateDir, "gateway.json5"),
    JSON.stringify({ gateway: { port: 0, auth: { mode: "token", token: TOKEN } }, ...config }),
  );
  return stateDir;
}

function start(stateDir: string): Gateway {
  const gateway = createGateway({ stateDir, version: "1.2.3-test", logging: { stdout: false } });
  gateways.push(gateway);
  return gateway;
}

describe("createGateway", () => {
  it("listens on port 0, answers a client, and runs a chat turn through the echo agent", async () => {
    const gateway = start(stateDirWithConfig());
    const address = await gateway.listen();
    expect(address.port).toBeGreaterThan(0);
    const client = createGatewayClient({ url: address.url, token: TOKEN, reconnect: false });
    try {
      const hello = await client.ready();
      expect(hello.server.version).toBe("1.2.3-test");
      const finals: string[] = [];
      client.on("chat", (event) => {
        if (event.state === "final") finals.push(JSON.stringify(event.message));
      });
      await client.request("chat.send", { sessionKey: "agent:main:main", message: "hello library" });
      await until(() => finals.length > 0, { message: "the final chat event" });
      expect(finals.join("")).toContain("hello library");
    } finally {
      client.close();
    }
    expect(gateway.describe()).toMatchObject({ agent: { backend: "echo" }, channels: [], redisUrl: undefined });
  });

  it("two gateways run side by side in one process, each on its own state directory", async () => {
    const first = start(stateDirWithConfig());
    const second = start(stateDirWithConfig());
    const [a, b] = await Promise.all([first.listen(), second.listen()]);
    expect(a.port).not.toBe(b.port);
  });

  it("a second gateway on the same state directory is refused with the holder's pid and URL; close releases it", async () => {
    const stateDir = stateDirWithConfig();
    const first = start(stateDir);
    const address = await first.listen();
    const lock = JSON.parse(readFileSync(join(stateDir, STATE_LOCK_FILE), "utf8"));
    expect(lock).toMatchObject({ pid: process.pid, url: address.url, version: "1.2.3-test" });
    expect(() => start(stateDir)).toThrow(
      new RegExp(`another gateway \\(pid ${process.pid}\\) listening on ${address.url.replaceAll("/", "\\/")}`),
    );
    // The refused one left the holder's file alone.
    expect(JSON.parse(readFileSync(join(stateDir, STATE_LOCK_FILE), "utf8"))).toEqual(lock);
    await first.close();
    const again = start(stateDir);
    await again.listen();
  });

  it("an invalid config is a ConfigError naming the path, and the state directory is not kept locked", () => {
    const stateDir = stateDirWithConfig({ heartbeat: { evry: "5m" } });
    expect(() => start(stateDir)).toThrow(/heartbeat\.evry/);
    writeFileSync(join(stateDir, "gateway.json5"), JSON.stringify({ gateway: { port: 0, auth: { token: TOKEN } } }));
    expect(() => start(stateDir)).not.toThrow();
  });

  it("a config holding a token that others can read is made private at start, and said so", async () => {
    const stateDir = stateDirWithConfig();
    chmodSync(join(stateDir, "gateway.json5"), 0o644);
    chmodSync(stateDir, 0o755);
    const gateway = start(stateDir);
    expect(statSync(join(stateDir, "gateway.json5")).mode & 0o777).toBe(0o600);
    expect(statSync(stateDir).mode & 0o777).toBe(0o700);
    expect(gateway.describe().notices).toEqual([
      "the state directory was readable by others (755); it is 700 now",
      expect.stringMatching(/gateway\.json5 holds secrets and was readable by others \(644\); it is 600 now$/),
    ]);
  });
});
