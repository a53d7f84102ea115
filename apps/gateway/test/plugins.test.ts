// A third-party channel plugin loaded from `plugins:` — the example package of docs/plugins.md, built — runs in the
// real gateway next to a plugin that fails to load, which only shows up as a warning.
import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
// @ts-expect-error -- a plain .mjs helper of the private vitest preset
import { runProcess } from "@gateway/vitest-preset/run-process";
import { afterAll, expect, it } from "vitest";
import { startFakeRelay } from "../../../examples/channel-relay/test/fake-relay.js";

const root = join(dirname(fileURLToPath(import.meta.url)), "..", "..", "..");
const main = join(root, "apps", "gateway", "dist", "main.js");
const cleanups: Array<() => unknown> = [];
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
      plugins: ["${join(root, "examples", "channel-relay", "dist", "index.js")}", "./no-such-plugin.js"],
      channels: { relay: { url: "${relay.url}", token: "relay-token", waitSeconds: 1, dmPolicy: "open", allowFrom: ["*"], debounceMs: 0 } },
    }`,
  );
  const gateway: ChildProcess = spawn(process.execPath, [main, "run", "--port", "0", "--state-dir", stateDir], {
    env: { ...process.env, GATEWAY_TOKEN: "" },
    stdio: ["ignore", "pipe", "pipe"],
  });
  cleanups.push(() => gateway.kill("SIGKILL"));
  await new Promise<void>((resolve) => {
    let output = "";
    gateway.stdout!.on("data", (chunk) => {
      output += chunk;
      if (output.includes("listening on")) resolve();
    });
  });
  const deadline = Date.now() + 10_000;
  relay.inject("chat-1", { id: "u1", name: "Ada" }, "hello relay");
  while (relay.sent.length === 0 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20));
  expect(relay.sent[0]).toMatchObject({ peer: "chat-1" });
  expect(relay.sent[0]!.text.endsWith("hello relay")).toBe(true);
  const status = (await runProcess(process.execPath, [main, "channels", "status", "--state-dir", stateDir], {
    env: { GATEWAY_TOKEN: "", GATEWAY_URL: "" },
  })) as { stdout: string };
  expect(status.stdout).toMatch(/relay:default\s+connected\s+polling/);
  expect(status.stdout).toMatch(/! channel plugin \.\/no-such-plugin\.js: .*no-such-plugin/);
}, 30_000);
