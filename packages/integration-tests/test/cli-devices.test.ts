// `gateway devices` and `gateway nodes` (the CLI, in-process) against a listening gateway: approving a pending device
// by id and with --latest, rotating and revoking its token, removing it; approving a node and invoking a command.

import { runCli } from "@gateway/cli";
import {
  createGatewayClient,
  createMemoryKeyStore,
  createNodeClient,
  type GatewayClient,
  GatewayClientError,
  loadDeviceIdentity,
} from "@gateway/client";
import { eventually } from "@gateway/vitest-preset/wait";
import { afterEach, describe, expect, it } from "vitest";
import { startGateway, stopAll, TOKEN } from "./harness.js";

afterEach(stopAll);
const opened: GatewayClient[] = [];
afterEach(() => {
  for (const client of opened.splice(0)) client.close();
});

async function cli(url: string, args: string[]) {
  let stdout = "";
  let stderr = "";
  const code = await runCli([...args, "--url", url, "--token", TOKEN], {
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

async function pendingDevice(url: string, scopes = ["operator.read"]) {
  const device = await loadDeviceIdentity(createMemoryKeyStore());
  const client = createGatewayClient({ url, token: TOKEN, device, reconnect: false, scopes });
  opened.push(client);
  const error = await client.ready().catch((reason: unknown) => reason);
  if (!GatewayClientError.isInstance(error) || error.detailCode !== "PAIRING_REQUIRED") throw new Error("not pending");
  return { device, requestId: (error.details as { requestId: string }).requestId };
}

describe("gateway devices / gateway nodes", () => {
  it("lists, approves (by id and --latest), rejects, rotates, revokes and removes", async () => {
    const gateway = await startGateway({ gateway: { pairing: { autoApproveLoopback: false } } });
    const first = await pendingDevice(gateway.url);
    const listed = await cli(gateway.url, ["devices", "list"]);
    expect(listed.code, listed.stderr).toBe(0);
    expect(listed.stdout).toContain(first.requestId);
    expect(listed.stdout).toMatch(/approve one with: gateway devices approve/);

    const approved = await cli(gateway.url, ["devices", "approve", first.requestId]);
    expect(approved.code, approved.stderr).toBe(0);
    expect(approved.stdout).toMatch(/approved device/);

    const second = await pendingDevice(gateway.url);
    const latest = await cli(gateway.url, ["devices", "approve", "--latest", "--json"]);
    expect(JSON.parse(latest.stdout)).toMatchObject({ deviceId: second.device.deviceId, decision: "approved" });

    const third = await pendingDevice(gateway.url);
    expect((await cli(gateway.url, ["devices", "reject", third.requestId])).code).toBe(0);
    expect((await cli(gateway.url, ["devices", "approve", third.requestId])).stderr).toMatch(
      /no pending device request/,
    );

    const paired = createGatewayClient({
      url: gateway.url,
      token: TOKEN,
      device: first.device,
      reconnect: false,
      scopes: ["operator.read"],
    });
    opened.push(paired);
    await paired.ready();
    const prefix = first.device.deviceId.slice(0, 12);
    const rotated = await cli(gateway.url, ["devices", "rotate", prefix, "--json"]);
    expect(JSON.parse(rotated.stdout)).toMatchObject({ deviceId: first.device.deviceId, tokenDelivery: "in-band" });
    await eventually(() => expect(paired.state).toBe("closed"));
    expect((await cli(gateway.url, ["devices", "revoke", prefix])).stdout).toMatch(/revoked the operator token/);
    expect((await cli(gateway.url, ["devices", "remove", prefix])).stdout).toMatch(/removed device/);
    expect((await cli(gateway.url, ["devices", "remove", prefix])).code).toBe(1);
    expect((await cli(gateway.url, ["devices", "frobnicate"])).code).toBe(2);
  });

  it("approves a node's commands and invokes one", async () => {
    const gateway = await startGateway();
    const device = await loadDeviceIdentity(createMemoryKeyStore());
    const node = createNodeClient({
      url: gateway.url,
      token: TOKEN,
      device,
      reconnect: false,
      commands: { "echo.back": (params) => ({ echoed: params }) },
      client: { displayName: "cli-node" },
    });
    opened.push(node);
    await node.ready();
    const pending = await eventually(async () => {
      const result = await cli(gateway.url, ["nodes", "pending", "--json"]);
      const requests = JSON.parse(result.stdout) as Array<{ requestId: string }>;
      expect(requests).toHaveLength(1);
      return requests[0]!;
    });
    expect((await cli(gateway.url, ["nodes", "approve", pending.requestId])).stdout).toMatch(/approved node/);
    const listed = await cli(gateway.url, ["nodes", "list"]);
    expect(listed.stdout).toMatch(/cli-node\s+\S+\s+connected\s+echo\.back/);
    const invoked = await cli(gateway.url, ["nodes", "invoke", "cli-node", "echo.back", "--params", "{ n: 1 }"]);
    expect(invoked.code, invoked.stderr).toBe(0);
    expect(JSON.parse(invoked.stdout)).toEqual({ echoed: { n: 1 } });
    const missing = await cli(gateway.url, ["nodes", "invoke", "cli-node", "rm.rf"]);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toMatch(/does not offer rm\.rf/);
  });
});
