// Our client against the reference implementation's own gateway (`openclaw gateway run`): with a WebCrypto device
// identity it pairs (silently, on loopback, as the reference does), receives a device token, and reconnects with that
// token alone; without a device it gets the explicit scopes it asks for.
import {
  createGatewayClient,
  createMemoryKeyStore,
  createNodeClient,
  type GatewayClient,
  loadDeviceIdentity,
} from "@gateway/client";
import { eventually } from "@gateway/vitest-preset/wait";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  haveReference,
  type ReferenceGateway,
  startReferenceGateway,
  REFERENCE_TOKEN as TOKEN,
} from "./reference-gateway.js";

describe.skipIf(!haveReference)("our client against the reference's gateway", () => {
  let gateway: ReferenceGateway | undefined;
  let url = "";
  const clients: GatewayClient[] = [];

  beforeAll(async () => {
    gateway = await startReferenceGateway();
    url = gateway.url;
  }, 90_000);

  afterAll(async () => {
    for (const client of clients) client.close();
    await gateway?.stop();
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
