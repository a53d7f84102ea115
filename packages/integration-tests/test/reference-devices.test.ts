// The reference implementation's clients against our gateway: its GatewayClient with its own device identity pairs,
// gets a device token and reconnects with it alone; its CLI (device-less on loopback, as it is) lists our devices and
// approves a pending one.

import { spawn } from "node:child_process";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { createGatewayClient, createMemoryKeyStore, GatewayClientError, loadDeviceIdentity } from "@gateway/client";
import { checkAvailable } from "@gateway/vitest-preset/wait";
import { afterEach, describe, expect, it } from "vitest";
import { referenceEnv, referencePaths } from "../../../tooling/interop/reference.mjs";
import { startGateway, stopAll, TOKEN } from "./harness.js";

const reference = referencePaths() as { dir: string; cli: string };
const haveReference = checkAvailable(
  existsSync(join(reference.dir, ".complete")),
  `the reference implementation (node tooling/interop/reference.mjs installs it into ${reference.dir})`,
);

const homes: string[] = [];
afterEach(async () => {
  await stopAll();
  for (const home of homes.splice(0)) rmSync(home, { recursive: true, force: true });
});

/** Run the reference CLI with its own environment only (it behaves differently under a test runner's variables). */
function referenceCli(home: string, args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = spawn(process.execPath, [reference.cli, ...args], { env: referenceEnv(home) });
  let stdout = "";
  let stderr = "";
  child.stdout.on("data", (chunk) => {
    stdout += chunk;
  });
  child.stderr.on("data", (chunk) => {
    stderr += chunk;
  });
  return new Promise((resolve, reject) => {
    child.once("error", reject);
    child.once("close", (code) => resolve({ code, stdout, stderr }));
  });
}

const fixture = join(dirname(fileURLToPath(import.meta.url)), "fixtures", "reference-gateway-client.mjs");

/** The reference's GatewayClient, with its device identity kept under `home`, connecting once. */
async function referenceClient(home: string, url: string, token: string | undefined, scopes: string[], method = "") {
  const child = spawn(
    process.execPath,
    [fixture, join(reference.dir, "node_modules", "openclaw", "dist"), url, token ?? "-", scopes.join(","), method],
    { env: referenceEnv(home) },
  );
  let stdout = "";
  let stderr = "";
  child.stdout.on("data", (chunk) => {
    stdout += chunk;
  });
  child.stderr.on("data", (chunk) => {
    stderr += chunk;
  });
  await new Promise((resolve) => child.once("close", resolve));
  const line = stdout.split("\n").find((candidate) => candidate.startsWith("{"));
  if (!line) throw new Error(`the reference client printed nothing: ${stderr}`);
  return JSON.parse(line) as {
    deviceId: string;
    auth?: { role: string; scopes: string[]; deviceToken?: string };
    error?: { message: string; details?: { code?: string; requestId?: string; reason?: string } };
    result?: unknown;
  };
}

describe.skipIf(!haveReference)("the reference's clients against our gateway", () => {
  it("its GatewayClient with a device identity: pairing required, approved, then its device token alone", async () => {
    const gateway = await startGateway({ gateway: { pairing: { autoApproveLoopback: false } } });
    const home = mkdtempSync(join(tmpdir(), "reference-client-"));
    homes.push(home);
    const operator = await gateway.client({ scopes: ["operator.pairing"] });
    const scopes = ["operator.read", "operator.pairing"];

    const first = await referenceClient(home, gateway.url, TOKEN, scopes);
    expect(first.error?.details, JSON.stringify(first)).toMatchObject({
      code: "PAIRING_REQUIRED",
      reason: "not-paired",
    });
    const { pending } = await operator.request("device.pair.list");
    expect(pending).toEqual([expect.objectContaining({ deviceId: first.deviceId, scopes })]);
    await operator.request("device.pair.approve", { requestId: first.error!.details!.requestId! });

    const second = await referenceClient(home, gateway.url, TOKEN, scopes, "device.pair.list");
    expect(second.auth).toMatchObject({ role: "operator", scopes, deviceToken: expect.any(String) });
    expect(second.result).toMatchObject({ paired: [expect.objectContaining({ deviceId: first.deviceId })] });

    // no shared token: the device token it stored is enough
    const third = await referenceClient(home, gateway.url, undefined, ["operator.read"], "node.list");
    expect(third.error).toBeUndefined();
    expect(third.auth).toMatchObject({ role: "operator", scopes: ["operator.read"] });
    expect(third.result).toMatchObject({ nodes: [] });

    // revoked: refused, and it has to pair again
    await operator.request("device.token.revoke", { deviceId: first.deviceId, role: "operator" });
    const fourth = await referenceClient(home, gateway.url, undefined, ["operator.read"]);
    expect(fourth.error?.details?.code).toMatch(/AUTH_DEVICE_TOKEN_MISMATCH|AUTH_TOKEN_MISSING|AUTH_REQUIRED/);
  }, 120_000);

  it("its CLI lists our devices and approves a pending one", async () => {
    const gateway = await startGateway({ gateway: { pairing: { autoApproveLoopback: false } } });
    const home = mkdtempSync(join(tmpdir(), "reference-cli-"));
    homes.push(home);
    const target = ["--url", gateway.url, "--token", TOKEN, "--json"];
    const device = await loadDeviceIdentity(createMemoryKeyStore());
    const ours = createGatewayClient({
      url: gateway.url,
      token: TOKEN,
      device,
      reconnect: false,
      scopes: ["operator.read"],
    });
    const refused = await ours.ready().catch((error: unknown) => error);
    expect(GatewayClientError.isInstance(refused) && refused.detailCode).toBe("PAIRING_REQUIRED");
    const requestId = (refused as GatewayClientError & { details: { requestId: string } }).details.requestId;

    const listed = await referenceCli(home, ["devices", "list", ...target]);
    expect(listed.code, listed.stdout + listed.stderr).toBe(0);
    expect(JSON.parse(listed.stdout)).toMatchObject({
      pending: [expect.objectContaining({ requestId, deviceId: device.deviceId })],
    });
    const approved = await referenceCli(home, ["devices", "approve", requestId, ...target]);
    expect(approved.code, approved.stdout + approved.stderr).toBe(0);
    const paired = createGatewayClient({
      url: gateway.url,
      token: TOKEN,
      device,
      reconnect: false,
      scopes: ["operator.read"],
    });
    expect((await paired.ready()).auth.scopes).toEqual(["operator.read"]);
    paired.close();
  }, 120_000);
});
