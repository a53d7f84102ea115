// Our client against the reference implementation's own gateway (`openclaw gateway run`): with a WebCrypto device
// identity it pairs (silently, on loopback, as the reference does), receives a device token, and reconnects with that
// token alone; without a device it gets the explicit scopes it asks for.
import { type ChildProcess, spawn } from "node:child_process";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  createGatewayClient,
  createMemoryKeyStore,
  createNodeClient,
  type GatewayClient,
  loadDeviceIdentity,
} from "@gateway/client";
import { checkAvailable, eventually } from "@gateway/vitest-preset/wait";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { referenceEnv, referencePaths } from "../../../tooling/interop/reference.mjs";

const reference = referencePaths() as { dir: string; cli: string };
const haveReference = checkAvailable(
  existsSync(join(reference.dir, ".complete")),
  `the reference implementation (node tooling/interop/reference.mjs installs it into ${reference.dir})`,
);
const TOKEN = "reference-gateway-token-0123456789";

async function freePort(): Promise<number> {
  const probe = createServer();
  await new Promise<void>((resolve) => probe.listen(0, "127.0.0.1", resolve));
  const { port } = probe.address() as { port: number };
  await new Promise((resolve) => probe.close(resolve));
  return port;
}

describe.skipIf(!haveReference)("our client against the reference's gateway", () => {
  let gateway: ChildProcess | undefined;
  let home = "";
  let url = "";
  let output = "";
  const clients: GatewayClient[] = [];

  beforeAll(async () => {
    home = mkdtempSync(join(tmpdir(), "reference-gateway-"));
    const port = await freePort();
    url = `ws://127.0.0.1:${port}`;
    gateway = spawn(
      process.execPath,
      [
        reference.cli,
        "gateway",
        "run",
        "--allow-unconfigured",
        "--auth",
        "token",
        "--token",
        TOKEN,
        "--port",
        String(port),
        "--bind",
        "loopback",
      ],
      { env: referenceEnv(home), stdio: ["ignore", "pipe", "pipe"] },
    );
    gateway.stdout?.on("data", (chunk) => {
      output += chunk;
    });
    gateway.stderr?.on("data", (chunk) => {
      output += chunk;
    });
    await eventually(() => expect(output).toMatch(/\[gateway\] ready/), { timeoutMs: 60_000, intervalMs: 100 });
  }, 90_000);

  afterAll(async () => {
    for (const client of clients) client.close();
    if (gateway && gateway.exitCode === null) {
      const exited = new Promise((resolve) => gateway!.once("exit", resolve));
      gateway.kill("SIGTERM");
      await Promise.race([exited, new Promise((resolve) => setTimeout(resolve, 5_000))]);
      if (gateway.exitCode === null) gateway.kill("SIGKILL");
    }
    rmSync(home, { recursive: true, force: true });
  });

  const open = (options: Partial<Parameters<typeof createGatewayClient>[0]>) => {
    const client = createGatewayClient({
      url,
      reconnect: false,
      client: { id: "cli", mode: "cli", version: "1.0.0" },
      ...options,
    });
    clients.push(client);
    return client;
  };

  it("pairs our WebCrypto device identity, and reconnects with the device token alone", async () => {
    const device = await loadDeviceIdentity(createMemoryKeyStore());
    const first = open({ token: TOKEN, device, scopes: ["operator.read", "operator.pairing"] });
    const hello = await first.ready();
    expect(hello.auth).toMatchObject({ role: "operator", scopes: ["operator.read", "operator.pairing"] });
    expect(hello.auth.deviceToken).toEqual(expect.any(String));
    const { paired } = await first.request("device.pair.list");
    expect(paired).toEqual(expect.arrayContaining([expect.objectContaining({ deviceId: device.deviceId })]));
    first.close();
    await eventually(() => expect(device.token("operator")).toBeDefined());

    const again = open({ device, scopes: ["operator.read"] });
    expect((await again.ready()).auth).toMatchObject({ role: "operator", scopes: ["operator.read"] });
    expect(await again.request("health")).toBeDefined();
  }, 60_000);

  it("without a device, gets the explicit scopes it asks for", async () => {
    const reader = open({ token: TOKEN, scopes: ["operator.read"] });
    expect((await reader.ready()).auth.scopes).toEqual(["operator.read"]);
    expect(await reader.request("health")).toBeDefined();
  }, 60_000);

  it("runs our node client: its commands are approved there and node.invoke reaches it", async () => {
    const device = await loadDeviceIdentity(createMemoryKeyStore());
    const node = createNodeClient({
      url,
      token: TOKEN,
      device,
      reconnect: false,
      caps: ["system"],
      commands: { "system.which": (params) => ({ bins: { sh: `/ours/${(params as { bins: string[] }).bins[0]}` } }) },
      client: { displayName: "our-node" },
    });
    clients.push(node);
    expect((await node.ready()).auth.role).toBe("node");
    const operator = open({ token: TOKEN, scopes: ["operator.admin"] });
    await operator.ready();
    const request = await eventually(async () => {
      const { pending } = (await operator.call("node.pair.list")) as {
        pending: Array<{ requestId: string; nodeId: string; commands: string[] }>;
      };
      const mine = pending.find((candidate) => candidate.nodeId === device.deviceId);
      expect(mine?.commands).toEqual(["system.which"]);
      return mine!;
    });
    await operator.call("node.pair.approve", { requestId: request.requestId });
    const answer = await eventually(
      () =>
        operator.request("node.invoke", { nodeId: device.deviceId, command: "system.which", params: { bins: ["sh"] } }),
      { timeoutMs: 10_000, intervalMs: 200 },
    );
    expect(answer).toMatchObject({ ok: true, nodeId: device.deviceId, payload: { bins: { sh: "/ours/sh" } } });
  }, 60_000);
});
