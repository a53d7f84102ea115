// The CLI (in-process) against a listening gateway with `gateway.tls.autoGenerate`: on its own machine the generated
// certificate is pinned from the state dir; elsewhere `--tls-fingerprint` pins it; a wrong pin and an unpinned
// self-signed certificate are refused, each saying what to do.
import { X509Certificate } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { runCli } from "@gateway/cli";
import { generatedCertificatePaths } from "@gateway/server";
import { afterAll, afterEach, describe, expect, it } from "vitest";
import { startGateway, stopAll, TOKEN } from "./harness.js";

afterEach(stopAll);
const elsewhere = mkdtempSync(join(tmpdir(), "cli-tls-elsewhere-")); // another machine: no local config
afterAll(() => rmSync(elsewhere, { recursive: true, force: true }));
const OTHER = "AB:".repeat(31).concat("AB");

async function cli(args: string[]) {
  let stdout = "";
  let stderr = "";
  const code = await runCli(args, {
    stdout: (text) => {
      stdout += text;
    },
    stderr: (text) => {
      stderr += text;
    },
    env: {},
    isTty: false,
  });
  return { code, stdout, stderr };
}

async function tlsGateway() {
  const gateway = await startGateway({ gateway: { tls: { enabled: true, autoGenerate: true } } });
  const cert = readFileSync(generatedCertificatePaths(gateway.stateDir).certPath);
  return { ...gateway, fingerprint: new X509Certificate(cert).fingerprint256 };
}

describe("the CLI and a self-signed wss:// gateway", () => {
  it("on the gateway's machine, pins the generated certificate from the state dir", async () => {
    const gateway = await tlsGateway();
    expect(gateway.url).toMatch(/^wss:/);
    const status = await cli(["status", "--state-dir", gateway.stateDir]);
    expect(status.stderr).toBe("");
    expect(status.code).toBe(0);
    expect(status.stdout).toMatch(new RegExp(`^tls\\s+certificate SHA-256 ${gateway.fingerprint}$`, "m"));
    const json = await cli(["status", "--json", "--state-dir", gateway.stateDir]);
    expect(JSON.parse(json.stdout)).toMatchObject({ tls: { fingerprintSha256: gateway.fingerprint } });
  });

  it("from elsewhere, connects with --tls-fingerprint", async () => {
    const gateway = await tlsGateway();
    const args = ["--url", gateway.url, "--token", TOKEN, "--state-dir", elsewhere];
    const health = await cli(["health", ...args, "--tls-fingerprint", gateway.fingerprint]);
    expect(health.code, health.stderr).toBe(0);
    expect(health.stdout).toMatch(/^status\s+(ok|degraded)/m);
  });

  it("refuses a wrong pin, naming both fingerprints", async () => {
    const gateway = await tlsGateway();
    const args = ["--url", gateway.url, "--token", TOKEN, "--state-dir", elsewhere];
    const refused = await cli(["status", ...args, "--tls-fingerprint", OTHER]);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain("TLS_FINGERPRINT_MISMATCH");
    expect(refused.stderr).toContain(gateway.fingerprint);
    expect(refused.stderr).toContain(OTHER);
  });

  it("refuses the self-signed certificate unpinned, with the flag to pin it", async () => {
    const gateway = await tlsGateway();
    const refused = await cli(["status", "--url", gateway.url, "--token", TOKEN, "--state-dir", elsewhere]);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain("TLS_CERTIFICATE_UNTRUSTED");
    expect(refused.stderr).toContain(`--tls-fingerprint ${gateway.fingerprint}`);
  });

  it("refuses a malformed --tls-fingerprint as a usage error", async () => {
    const result = await cli([
      "status",
      "--url",
      "wss://127.0.0.1:1",
      "--tls-fingerprint",
      "abc",
      "--state-dir",
      elsewhere,
    ]);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/--tls-fingerprint must be a SHA-256 fingerprint/);
  });
});
