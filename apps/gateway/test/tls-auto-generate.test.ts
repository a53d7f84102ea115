// The built gateway with `gateway.tls.autoGenerate`: the first start generates the pair (key 0600) and its banner
// prints the certificate's fingerprint; a restart reuses the pair (same fingerprint); the built CLI's `gateway status`
// on that machine reaches it over wss:// (pinned from the state dir) and shows the same fingerprint.
import { type ChildProcess, spawn } from "node:child_process";
import { X509Certificate } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
// @ts-expect-error -- a plain .mjs helper of the private vitest preset
import { runProcess } from "@gateway/vitest-preset/run-process";
import { until } from "@gateway/vitest-preset/wait";
import { afterEach, expect, it } from "vitest";

const main = join(dirname(fileURLToPath(import.meta.url)), "..", "dist", "main.js");
const children: ChildProcess[] = [];
const dirs: string[] = [];
afterEach(() => {
  for (const child of children.splice(0)) child.kill("SIGKILL");
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

async function start(stateDir: string) {
  const child = spawn(process.execPath, [main, "run", "--port", "0", "--state-dir", stateDir], {
    env: { ...process.env, GATEWAY_TOKEN: "" },
    stdio: ["ignore", "pipe", "pipe"],
  });
  children.push(child);
  let stdout = "";
  child.stdout!.on("data", (chunk) => {
    stdout += chunk;
  });
  await until(() => /listening on wss:\/\/127\.0\.0\.1:\d+/.test(stdout), {
    message: "the TLS gateway's banner",
    timeoutMs: 30_000,
  });
  await until(() => /SHA-256 \S+ \(clients pin it/.test(stdout), { message: "the fingerprint line" });
  const exited = new Promise((resolve) => child.once("exit", resolve));
  return {
    fingerprint: /tls\s+certificate SHA-256 (\S+)/.exec(stdout)?.[1],
    async stop() {
      child.kill("SIGTERM");
      await exited;
    },
  };
}

it("generates the pair once, prints its fingerprint, reuses it, and gateway status shows it", async () => {
  const stateDir = mkdtempSync(join(tmpdir(), "gateway-app-tls-"));
  dirs.push(stateDir);
  writeFileSync(
    join(stateDir, "gateway.json5"),
    JSON.stringify({
      gateway: {
        auth: { mode: "token", token: "app-tls-token-0123456789" },
        tls: { enabled: true, autoGenerate: true },
      },
    }),
    { mode: 0o600 },
  );
  const first = await start(stateDir);
  const certificate = new X509Certificate(readFileSync(join(stateDir, "tls", "cert.pem")));
  expect(first.fingerprint).toBe(certificate.fingerprint256);
  expect(statSync(join(stateDir, "tls", "key.pem")).mode & 0o777).toBe(0o600);

  const status = (await runProcess(process.execPath, [main, "status", "--state-dir", stateDir], {
    env: { GATEWAY_TOKEN: "", GATEWAY_URL: "" },
  })) as { code: number; stdout: string; stderr: string };
  expect(status.code, status.stderr).toBe(0);
  expect(status.stdout).toMatch(new RegExp(`^tls\\s+certificate SHA-256 ${certificate.fingerprint256}$`, "m"));
  await first.stop();

  const second = await start(stateDir);
  expect(second.fingerprint).toBe(certificate.fingerprint256);
  await second.stop();
}, 90_000);
