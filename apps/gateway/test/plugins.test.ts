// A third-party channel plugin loaded from `plugins:` — the example package of docs/plugins.md, built — runs in the
// real gateway next to a plugin that fails to load, which only shows up as a warning.
import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
// @ts-expect-error -- a plain .mjs helper of the private vitest preset
import { runProcess } from "@gateway/vitest-preset/run-process";
import { until } from "@gateway/vitest-preset/wait";
import { afterAll, beforeAll, expect, it } from "vitest";
import { startFakeRelay } from "../../../examples/channel-relay/test/fake-relay.js";

const root = join(dirname(fileURLToPath(import.meta.url)), "..", "..", "..");
const main = join(root, "apps", "gateway", "dist", "main.js");
const example = join(root, "examples", "channel-relay");
const cleanups: Array<() => unknown> = [];
beforeAll(() => {
  // The example is loaded as a built package, as a user's plugin would be: build it when it is not (its own script).
  if (existsSync(join(example, "dist", "index.js"))) return;
  const build = JSON.parse(readFileSync(join(example, "package.json"), "utf8")).scripts.build as string;
  const tsup = join(root, "apps", "gateway", "node_modules", "tsup", "dist", "cli-default.js");
  const built = spawnSync(process.execPath, [tsup, ...build.split(" ").slice(1)], { cwd: example, encoding: "utf8" });
  if (built.status !== 0) throw new Error(`building examples/channel-relay failed:\n${built.stdout}${built.stderr}`);
}, 60_000);
afterAll(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup();
});

it("runs a channel plugin from plugins: and reports one that cannot load", async () => {
  const relay = await startFakeRelay("relay-token");
  cleanups.push(() => relay.close());
  const stateDir = mkdtempSync(join(tmpdir(), "gateway-plugins-"));
  cleanups.push(() => rmSync(stateDir, { recursive: true, force: true }));
  writeFileSync(
    join(stateDir, "gateway.json5"),
    `{
      gateway: { auth: { mode: "token", token: "plugins-test-token-0123456789" } },
      plugins: ["${join(example, "dist", "index.js")}", "./no-such-plugin.js"],
      channels: { relay: { url: "${relay.url}", token: "relay-token", waitSeconds: 1, dmPolicy: "open", allowFrom: ["*"], debounceMs: 0 } },
    }`,
  );
  const gateway: ChildProcess = spawn(process.execPath, [main, "run", "--port", "0", "--state-dir", stateDir], {
    env: { ...process.env, GATEWAY_TOKEN: "" },
    stdio: ["ignore", "pipe", "pipe"],
  });
  cleanups.push(() => gateway.kill("SIGKILL"));
  let output = "";
  gateway.stdout!.on("data", (chunk) => {
    output += chunk;
  });
  gateway.stderr!.on("data", (chunk) => {
    output += chunk;
  });
  await until(() => output.includes("listening on"), { timeoutMs: 15_000, message: "the gateway listening" });
  relay.inject("chat-1", { id: "u1", name: "Ada" }, "hello relay");
  await until(() => relay.sent.length > 0, { timeoutMs: 10_000, message: "the relay's reply" }).catch(
    (error: Error) => {
      throw new Error(`${error.message}; the gateway logged:\n${output}`);
    },
  );
  expect(relay.sent[0]).toMatchObject({ peer: "chat-1" });
  expect(relay.sent[0]!.text.endsWith("hello relay")).toBe(true);
  const status = (await runProcess(process.execPath, [main, "channels", "status", "--state-dir", stateDir], {
    env: { GATEWAY_TOKEN: "", GATEWAY_URL: "" },
  })) as { stdout: string };
  expect(status.stdout).toMatch(/relay:default\s+connected\s+polling/);
  expect(status.stdout).toMatch(/! channel plugin \.\/no-such-plugin\.js: .*no-such-plugin/);
}, 30_000);
