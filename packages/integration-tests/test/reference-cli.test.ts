// Our CLI (in-process) against the reference implementation's own gateway: `gateway health` and `gateway status`,
// as tables and as --json, render the reference's payloads (whose fields are partly missing or named differently).
import { runCli } from "@gateway/cli";
import { eventually } from "@gateway/vitest-preset/wait";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { haveReference, REFERENCE_TOKEN, type ReferenceGateway, startReferenceGateway } from "./reference-gateway.js";

describe.skipIf(!haveReference)("our CLI against the reference's gateway", () => {
  let gateway: ReferenceGateway | undefined;

  beforeAll(async () => {
    gateway = await startReferenceGateway();
  }, 90_000);
  afterAll(async () => {
    await gateway?.stop();
  });

  async function cli(args: string[]) {
    let stdout = "";
    let stderr = "";
    const code = await runCli([...args, "--url", gateway!.url, "--token", REFERENCE_TOKEN], {
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

  it("gateway health renders the reference's health", async () => {
    let result = await cli(["health"]);
    expect(result.stderr).toBe("");
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/^status\s+ok/m);
    // The reference samples its event loop a while after it starts: until then it says so, and so do we.
    expect(result.stdout).toMatch(/^event loop\s+(p99 [\d.]+ ms|not sampled yet)/m);
    await eventually(
      async () => {
        result = await cli(["health"]);
        expect(result.stdout).toMatch(/^event loop\s+p99 [\d.]+ ms/m);
      },
      { timeoutMs: 45_000, intervalMs: 1_000 },
    );
    expect(result.stdout).toMatch(/^agents\s+1 \(default main\)/m);
    expect(result.stdout).not.toMatch(/undefined|NaN/);
  }, 60_000);

  it("gateway health --json prints the reference's payload", async () => {
    const result = await cli(["health", "--json"]);
    expect(result.code, result.stderr).toBe(0);
    expect(JSON.parse(result.stdout)).toMatchObject({ ok: true });
  }, 60_000);

  it("gateway status renders the reference's status", async () => {
    const result = await cli(["status"]);
    expect(result.stderr).toBe("");
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/^gateway\s+2026\.\d+\.\d+/m);
    expect(result.stdout).toMatch(/^memory\s+[\d.]+ MB RSS/m);
    expect(result.stdout).not.toMatch(/undefined|NaN/);
  }, 60_000);

  it("gateway status --json prints the reference's payload", async () => {
    const result = await cli(["status", "--json"]);
    expect(result.code, result.stderr).toBe(0);
    expect(JSON.parse(result.stdout)).toMatchObject({ runtimeVersion: expect.any(String) });
  }, 60_000);
});
