import { mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { eventually, settle, until } from "@gateway/vitest-preset/wait";
import pino from "pino";
import { afterEach, describe, expect, it } from "vitest";
import {
  attachConfig,
  ConfigManager,
  composeConfigSchema,
  createGatewayServer,
  type GatewayServer,
  serverConfigSections,
  serverOptionsFromConfig,
} from "../src/index.js";
import { connect, TestClient, TOKEN } from "./helpers.js";

const schema = composeConfigSchema(serverConfigSections);
const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function freePort(): Promise<number> {
  const probe = createServer();
  await new Promise<void>((resolve) => probe.listen(0, "127.0.0.1", resolve));
  const port = (probe.address() as { port: number }).port;
  await new Promise((resolve) => probe.close(resolve));
  return port;
}

const configText = (port: number, extra = "") =>
  `{ gateway: { port: ${port}, auth: { token: "${TOKEN}" }, reload: { debounceMs: 50 }${extra} }, logging: { level: "info" } }\n`;

async function startConfigured(text?: (port: number) => string, managerOptions: { writesPerMinute?: number } = {}) {
  const stateDir = mkdtempSync(join(tmpdir(), "gateway-config-e2e-"));
  const path = join(stateDir, "gateway.json5");
  const port = await freePort();
  writeFileSync(path, (text ?? configText)(port));
  const manager = ConfigManager.load({
    path,
    stateDir,
    schema,
    env: {},
    version: "test",
    logger: pino({ level: "silent" }),
    ...managerOptions,
  });
  const server: GatewayServer = createGatewayServer({
    ...serverOptionsFromConfig(manager.current.config),
    stateDir,
    logging: { ...serverOptionsFromConfig(manager.current.config).logging, stdout: false },
  });
  attachConfig(server, manager, { restartExpectedMs: 200 });
  const address = await server.listen();
  cleanups.push(async () => {
    await server.close();
    rmSync(stateDir, { recursive: true, force: true });
  });
  return { server, manager, path, stateDir, url: address.url, port: address.port };
}

describe("config over the API", () => {
  it("returns the running config with secrets redacted, its path and hash", async () => {
    const gateway = await startConfigured();
    const { client } = await connect(gateway.url);
    const response = await client.request("config.get", {});
    expect(response.payload).toMatchObject({
      path: gateway.path,
      exists: true,
      hash: expect.stringMatching(/^[0-9a-f]{64}$/),
      config: { gateway: { auth: { token: "[redacted]" } } },
    });
    expect(JSON.stringify(response.payload)).not.toContain(TOKEN);
    client.close();
  });

  it("refuses a missing or stale baseHash with the current hash, and invalid content with every problem", async () => {
    const gateway = await startConfigured();
    const { client } = await connect(gateway.url);
    const before = readFileSync(gateway.path, "utf8");
    const { hash } = (await client.request("config.get", {})).payload;
    const missing = await client.request("config.set", { raw: configText(gateway.port) });
    expect(missing.error).toMatchObject({ code: "INVALID_REQUEST", details: { hash } });
    const stale = await client.request("config.set", { raw: configText(gateway.port), baseHash: "0".repeat(64) });
    expect(stale.error?.message).toMatch(/changed since you read it/);
    const invalid = await client.request("config.set", {
      raw: `{ gateway: { prot: 1, auth: { token: "${TOKEN}" } }, logging: { level: "loud" } }`,
      baseHash: hash,
    });
    expect(invalid.error?.code).toBe("INVALID_REQUEST");
    expect(invalid.error?.details.issues.map((issue: { path: string }) => issue.path).sort()).toEqual([
      "gateway.prot",
      "logging.level",
    ]);
    expect(readFileSync(gateway.path, "utf8")).toBe(before);
    client.close();
  });

  it("applies config.set and config.patch (objects merge, null deletes), announcing config.changed", async () => {
    const gateway = await startConfigured();
    const { client } = await connect(gateway.url);
    let { hash } = (await client.request("config.get", {})).payload;
    const set = await client.request("config.set", {
      raw: configText(gateway.port, ", handshakeTimeoutMs: 5000").replace('"info"', '"warn"'),
      baseHash: hash,
    });
    expect(set.payload).toMatchObject({ ok: true, changedPaths: ["gateway.handshakeTimeoutMs", "logging.level"] });
    expect(gateway.server.logger.level).toBe("warn");
    expect(gateway.server.options.handshakeTimeoutMs).toBe(5000);
    const changed = await client.waitForEvent("config.changed");
    expect(changed.payload).toMatchObject({
      source: "api",
      restarted: false,
      appliedHot: ["gateway.handshakeTimeoutMs", "logging.level"],
    });
    hash = set.payload.hash;
    const patch = await client.request("config.patch", {
      raw: "{ gateway: { handshakeTimeoutMs: null }, logging: { level: 'debug' } }",
      baseHash: hash,
    });
    expect(patch.ok).toBe(true);
    expect((await client.request("config.get", {})).payload.config).toEqual({
      gateway: { port: gateway.port, auth: { token: "[redacted]" }, reload: { debounceMs: 50 } },
      logging: { level: "debug" },
    });
    client.close();
  });

  it("gateway.limits apply live, and a limit taken out goes back to its default", async () => {
    const gateway = await startConfigured();
    const { client } = await connect(gateway.url);
    const { hash } = (await client.request("config.get", {})).payload;
    const patch = await client.request("config.patch", {
      raw: "{ gateway: { limits: { maxPendingPerAddress: 2, requestTimeoutMs: 9000, auth: { maxFailures: 3 } } } }",
      baseHash: hash,
    });
    expect(patch.payload).toMatchObject({ ok: true, changedPaths: expect.arrayContaining(["gateway.limits"]) });
    expect(patch.payload.restartRequired).toBe(false);
    expect(gateway.server.options).toMatchObject({
      maxPendingPerAddress: 2,
      requestTimeoutMs: 9000,
      authMaxFailures: 3,
    });
    // Three sockets that never send connect: the third evicts the first, at once.
    const silent = await Promise.all([1, 2, 3].map(() => TestClient.open(gateway.url)));
    const firstClosed = await silent[0]!.closed;
    expect(firstClosed).toMatchObject({ code: 1008, reason: expect.stringMatching(/waiting for their handshake/) });
    for (const socket of silent) socket.close();

    const removed = await client.request("config.patch", {
      raw: "{ gateway: { limits: null } }",
      baseHash: patch.payload.hash,
    });
    expect(removed.ok).toBe(true);
    expect(gateway.server.options).toMatchObject({
      maxPendingPerAddress: 16,
      requestTimeoutMs: 30_000,
      authMaxFailures: 10,
    });
    client.close();
  });

  it("refuses a limit out of range with its path, and changes nothing", async () => {
    const gateway = await startConfigured();
    const { client } = await connect(gateway.url);
    const { hash } = (await client.request("config.get", {})).payload;
    const refused = await client.request("config.patch", {
      raw: "{ gateway: { limits: { maxPendingPerAddress: 0, maxPayload: 10 } } }",
      baseHash: hash,
    });
    expect(refused.error?.code).toBe("INVALID_REQUEST");
    expect(refused.error?.details.issues.map((issue: { path: string }) => issue.path).sort()).toEqual([
      "gateway.limits.maxPayload",
      "gateway.limits.maxPendingPerAddress",
    ]);
    expect(gateway.server.options.maxPendingPerAddress).toBe(16);
    client.close();
  });

  it("lets exactly one of two concurrent patches with the same baseHash win", async () => {
    const gateway = await startConfigured();
    const { client } = await connect(gateway.url);
    const { hash } = (await client.request("config.get", {})).payload;
    const [a, b] = await Promise.all([
      client.request("config.patch", { raw: "{ logging: { level: 'warn' } }", baseHash: hash }),
      client.request("config.patch", { raw: "{ logging: { level: 'error' } }", baseHash: hash }),
    ]);
    expect([a.ok, b.ok].sort()).toEqual([false, true]);
    expect((a.ok ? b : a).error?.message).toMatch(/changed since you read it/);
    client.close();
  });

  it("rate-limits config writes", async () => {
    const gateway = await startConfigured(undefined, { writesPerMinute: 2 });
    const { client } = await connect(gateway.url);
    for (const level of ["warn", "error"]) {
      const { hash } = (await client.request("config.get", {})).payload;
      expect(
        (await client.request("config.patch", { raw: `{ logging: { level: '${level}' } }`, baseHash: hash })).ok,
      ).toBe(true);
    }
    const { hash } = (await client.request("config.get", {})).payload;
    const limited = await client.request("config.patch", { raw: "{ logging: { level: 'info' } }", baseHash: hash });
    expect(limited.error).toMatchObject({ code: "UNAVAILABLE", retryable: true, retryAfterMs: expect.any(Number) });
    client.close();
  });

  it("needs operator.admin to write and explains the schema", async () => {
    const gateway = await startConfigured();
    const reader = await connect(gateway.url, { scopes: ["operator.read"] });
    expect((await reader.client.request("config.patch", { raw: "{}", baseHash: "x" })).error?.code).toBe("FORBIDDEN");
    const schema = (await reader.client.request("config.schema", {})).payload;
    expect(schema.uiHints["gateway.auth.token"]).toMatchObject({ sensitive: true });
    expect(schema.uiHints["gateway.port"]).toMatchObject({ help: "HTTP + WebSocket port", tags: ["restart"] });
    expect(schema.schema.properties.gateway).toBeDefined();
    reader.client.close();
  });
});

describe("hot reload from the file", () => {
  it("applies a hot change (logging level) without dropping connections", async () => {
    const gateway = await startConfigured();
    const { client } = await connect(gateway.url);
    writeFileSync(gateway.path, configText(gateway.port).replace('"info"', '"debug"'));
    const changed = await client.waitForEvent("config.changed");
    expect(changed.payload).toMatchObject({ changedPaths: ["logging.level"], source: "file", restarted: false });
    expect(gateway.server.logger.level).toBe("debug");
    expect(client.socket.readyState).toBe(1);
    expect((await client.request("health")).ok).toBe(true);
    client.close();
  });

  it("keeps serving the last good config on an invalid edit, reports it, and applies the fix", async () => {
    const gateway = await startConfigured();
    const { client } = await connect(gateway.url);
    writeFileSync(gateway.path, configText(gateway.port).replace('level: "info"', 'levle: "debug"'));
    const error = await client.waitForEvent("config.error");
    expect(error.payload.issues[0]).toMatchObject({ path: "logging.levle", hint: "did you mean `level`?" });
    expect((await client.request("health")).payload.gateway.warnings.join("\n")).toMatch(/config edit refused/);
    expect(gateway.server.logger.level).toBe("info");
    writeFileSync(gateway.path, configText(gateway.port).replace('"info"', '"warn"'));
    await client.waitForEvent("config.changed");
    expect(gateway.server.logger.level).toBe("warn");
    expect((await client.request("status")).payload.warnings.join("\n")).not.toMatch(/config edit refused/);
    client.close();
  });

  it("clears the refusal warning when a refused edit is reverted to the running file", async () => {
    const gateway = await startConfigured();
    const { client } = await connect(gateway.url);
    const good = readFileSync(gateway.path, "utf8");
    writeFileSync(gateway.path, good.replace('level: "info"', 'levle: "info"'));
    await client.waitForEvent("config.error");
    expect((await client.request("status")).payload.warnings.join("\n")).toMatch(/config edit refused/);
    // The user undoes the typo: the file is exactly the running config again, so there is nothing to apply.
    writeFileSync(gateway.path, good);
    await until(async () => !(await client.request("status")).payload.warnings.join("\n").includes("refused"), {
      message: "the refusal warning cleared",
    });
    expect(gateway.manager.lastError).toBeUndefined();
    client.close();
  });

  it("config.patch edits the file in place: comments and layout stay, and the previous file is kept as .bak", async () => {
    const gateway = await startConfigured(
      (port) => `// my gateway
{
  gateway: {
    port: ${port}, // the port I chose
    auth: { token: "${TOKEN}" },
    reload: { debounceMs: 50 },
  },
  // quiet, please
  logging: { level: "info" },
}
`,
    );
    const before = readFileSync(gateway.path, "utf8");
    const { client } = await connect(gateway.url);
    const { hash } = (await client.request("config.get")).payload;
    const patched = await client.request("config.patch", { raw: "{ logging: { level: 'warn' } }", baseHash: hash });
    expect(patched.ok).toBe(true);
    const after = readFileSync(gateway.path, "utf8");
    expect(after).toBe(before.replace('level: "info"', 'level: "warn"'));
    expect(readFileSync(`${gateway.path}.bak`, "utf8")).toBe(before);
    client.close();
  });

  it("handles an editor that saves by writing a temp file and renaming it over the config", async () => {
    const gateway = await startConfigured();
    const { client } = await connect(gateway.url);
    const temp = `${gateway.path}.swp`;
    writeFileSync(temp, configText(gateway.port).replace('"info"', '"error"'));
    renameSync(temp, gateway.path);
    // Generous waits: on a loaded machine the watcher's events come late, never not at all.
    await client.waitFor((frame) => frame.event === "config.changed", 15_000);
    expect(gateway.server.logger.level).toBe("error");
    // and again: the watcher survived the rename
    writeFileSync(temp, configText(gateway.port).replace('"info"', '"warn"'));
    renameSync(temp, gateway.path);
    await client.waitFor(
      (frame) =>
        frame.event === "config.changed" &&
        frame.payload.changedPaths.includes("logging.level") &&
        gateway.server.logger.level === "warn",
      15_000,
    );
    client.close();
  });

  it("restarts the listener in-process for a port change; clients are told and reconnect on the new port", async () => {
    const gateway = await startConfigured();
    const { client } = await connect(gateway.url);
    const newPort = await freePort();
    writeFileSync(gateway.path, configText(newPort));
    const shutdown = await client.waitForEvent("shutdown");
    expect(shutdown.payload).toMatchObject({ restartExpectedMs: 200 });
    expect((await client.closed).code).toBe(1012);
    const again = await eventually(() => connect(`ws://127.0.0.1:${newPort}`)); // refused until the listener is back
    expect((await again.client.request("health")).ok).toBe(true);
    expect(gateway.server.address?.port).toBe(newPort);
    again.client.close();
  });

  it("in hot mode leaves restart-only changes for the next restart and says so", async () => {
    const gateway = await startConfigured((port) =>
      configText(port).replace("debounceMs: 50", 'debounceMs: 50, mode: "hot"'),
    );
    const { client } = await connect(gateway.url);
    const newPort = await freePort();
    writeFileSync(gateway.path, configText(newPort).replace("debounceMs: 50", 'debounceMs: 50, mode: "hot"'));
    const changed = await client.waitForEvent("config.changed");
    expect(changed.payload).toMatchObject({ restarted: false, restartRequired: ["gateway.port"] });
    expect(gateway.server.address?.port).toBe(gateway.port);
    client.close();
  });

  it("retries a half-written file instead of refusing it", async () => {
    const gateway = await startConfigured();
    const { client } = await connect(gateway.url);
    const full = configText(gateway.port).replace('"info"', '"debug"');
    // Count the reloads, so the rest of the save lands once the torn file has been read, in the retry window.
    let reloads = 0;
    const reload = gateway.manager.reload.bind(gateway.manager);
    gateway.manager.reload = () => {
      reloads++;
      return reload();
    };
    writeFileSync(gateway.path, full.slice(0, Math.floor(full.length / 2)));
    await until(() => reloads === 1, { message: "the debounced reload of the torn file" });
    writeFileSync(gateway.path, full);
    const changed = await client.waitForEvent("config.changed");
    expect(changed.payload.changedPaths).toEqual(["logging.level"]);
    expect(client.frames.some((frame) => frame.event === "config.error")).toBe(false);
    client.close();
  });

  it("rebinds in restart mode too, and reports paths that need a process restart", async () => {
    const gateway = await startConfigured((port) =>
      configText(port).replace("debounceMs: 50", 'debounceMs: 50, mode: "restart"'),
    );
    const { client } = await connect(gateway.url);
    const { hash } = (await client.request("config.get", {})).payload;
    const patched = await client.request("config.patch", {
      raw: "{ logging: { file: '/tmp/elsewhere.log' } }",
      baseHash: hash,
    });
    expect(patched.payload).toMatchObject({ restartRequired: true, changedPaths: ["logging.file"] });
    const changed = await client.waitForEvent("config.changed");
    expect(changed.payload).toMatchObject({ restartRequired: ["logging.file"], restarted: false });
    const newPort = await freePort();
    writeFileSync(gateway.path, configText(newPort).replace("debounceMs: 50", 'debounceMs: 50, mode: "restart"'));
    expect((await client.closed).code).toBe(1012);
    await until(() => gateway.server.address?.port === newPort, { message: `the listener on ${newPort}` });
  });

  it("does not watch in off mode", async () => {
    const gateway = await startConfigured((port) =>
      configText(port).replace("debounceMs: 50", 'debounceMs: 50, mode: "off"'),
    );
    writeFileSync(
      gateway.path,
      configText(gateway.port).replace('"info"', '"debug"').replace("debounceMs: 50", 'debounceMs: 50, mode: "off"'),
    );
    await settle(250); // negative window: five debounces of 50 ms, in which a watcher would have applied the edit
    expect(gateway.server.logger.level).toBe("info");
  });

  it("rolls the whole change back when a subsystem fails to apply it", async () => {
    const gateway = await startConfigured();
    const applied: string[] = [];
    gateway.manager.subscribe("logging", (next) => {
      applied.push(JSON.stringify(next.logging));
      if ((next.logging as { level: string }).level === "trace") throw new Error("this subsystem refuses trace");
    });
    const { client } = await connect(gateway.url);
    const { hash } = (await client.request("config.get", {})).payload;
    const refused = await client.request("config.patch", { raw: "{ logging: { level: 'trace' } }", baseHash: hash });
    expect(refused.error?.message).toMatch(/rolled back: this subsystem refuses trace/);
    expect(gateway.server.logger.level).toBe("info");
    expect(gateway.manager.current.config).toMatchObject({ logging: { level: "info" } });
    expect(readFileSync(gateway.path, "utf8")).toBe(configText(gateway.port));
    await settle(150); // negative window: three debounces of 50 ms, in which a watcher re-applying the edit would show
    expect(applied.filter((entry) => entry.includes("trace"))).toHaveLength(1);
    client.close();
  });
});
