// Nodes end to end: a node (our createNodeClient with a device identity) attaches, its command surface waits for an
// operator's approval, then node.invoke reaches it and its answer comes back; timeouts, a node that disconnects in the
// middle and commands that were never approved each fail with their own clear error.
import { createMemoryKeyStore, createNodeClient, type GatewayClient, loadDeviceIdentity } from "@gateway/client";
import { eventually } from "@gateway/vitest-preset/wait";
import { afterEach, describe, expect, it } from "vitest";
import { startGateway, stopAll, TOKEN } from "./harness.js";

afterEach(stopAll);
const opened: GatewayClient[] = [];
afterEach(() => {
  for (const client of opened.splice(0)) client.close();
});

async function attachNode(url: string, commands: Parameters<typeof createNodeClient>[0]["commands"]) {
  const device = await loadDeviceIdentity(createMemoryKeyStore());
  const node = createNodeClient({
    url,
    token: TOKEN,
    reconnect: false,
    device,
    caps: ["system"],
    commands,
    client: { displayName: "test node", version: "1.0.0" },
  });
  opened.push(node);
  await node.ready();
  return { node, nodeId: device.deviceId };
}

describe("nodes", () => {
  it("a node's commands need approval; then node.invoke runs them and answers (idempotently)", async () => {
    const gateway = await startGateway();
    const operator = await gateway.client();
    const requested: unknown[] = [];
    operator.on("node.pair.requested", (event) => requested.push(event));
    let runs = 0;
    const { nodeId } = await attachNode(gateway.url, {
      "system.which": (params) => {
        runs++;
        const bins = (params as { bins: string[] }).bins;
        return { bins: Object.fromEntries(bins.map((bin) => [bin, `/usr/bin/${bin}`])) };
      },
      "system.fail": () => {
        throw Object.assign(new Error("no such thing"), { code: "ENOENT" });
      },
    });
    const presence = await operator.request("system-presence");
    expect(presence).toEqual(
      expect.arrayContaining([expect.objectContaining({ instanceId: nodeId, mode: "node", roles: ["node"] })]),
    );
    const listed = await operator.request("node.list");
    expect(listed.nodes).toEqual([
      expect.objectContaining({ nodeId, connected: true, paired: false, commands: [], caps: ["system"] }),
    ]);
    const invoke = { nodeId, command: "system.which", params: { bins: ["sh"] } };
    await expect(operator.request("node.invoke", invoke)).rejects.toMatchObject({
      code: "INVALID_REQUEST",
      message: expect.stringMatching(/not approved/),
    });

    await eventually(() => expect(requested).toHaveLength(1));
    const { pending } = await operator.request("node.pair.list");
    expect(pending).toEqual([
      expect.objectContaining({ nodeId, commands: ["system.which", "system.fail"], caps: ["system"] }),
    ]);
    await operator.request("node.pair.approve", { requestId: pending[0]!.requestId });

    const answer = await operator.request("node.invoke", { ...invoke, idempotencyKey: "which-1" });
    expect(answer).toEqual({ ok: true, nodeId, command: "system.which", payload: { bins: { sh: "/usr/bin/sh" } } });
    expect(await operator.request("node.invoke", { ...invoke, idempotencyKey: "which-1" })).toEqual(answer);
    expect(runs).toBe(1);

    await expect(operator.request("node.invoke", { nodeId, command: "system.fail", params: {} })).rejects.toMatchObject(
      { code: "UNAVAILABLE", message: expect.stringMatching(/no such thing/) },
    );
    await expect(operator.request("node.invoke", { nodeId, command: "system.run", params: {} })).rejects.toMatchObject({
      code: "INVALID_REQUEST",
      message: expect.stringMatching(/does not offer system.run/),
    });
    expect(await operator.request("node.describe", { nodeId })).toMatchObject({
      paired: true,
      connected: true,
      commands: ["system.which", "system.fail"],
    });
    await operator.request("node.rename", { nodeId, displayName: "kitchen" });
    expect((await operator.request("node.list")).nodes[0]).toMatchObject({ displayName: "kitchen" });
  });

  it("a node that disconnects mid-invoke fails the call at once; a silent one times out", async () => {
    const gateway = await startGateway();
    const operator = await gateway.client();
    let release: (() => void) | undefined;
    const { node, nodeId } = await attachNode(gateway.url, {
      "slow.hang": () => new Promise(() => {}),
      "slow.leave": () =>
        new Promise<void>((resolve) => {
          release = resolve;
        }),
    });
    await eventually(async () => expect((await operator.request("node.pair.list")).pending).toHaveLength(1));
    const { pending } = await operator.request("node.pair.list");
    await operator.request("node.pair.approve", { requestId: pending[0]!.requestId });

    const started = Date.now();
    await expect(
      operator.request("node.invoke", { nodeId, command: "slow.hang", params: {}, timeoutMs: 300 }),
    ).rejects.toMatchObject({
      code: "UNAVAILABLE",
      message: expect.stringMatching(/did not answer slow.hang within 300 ms/),
    });
    expect(Date.now() - started).toBeLessThan(5_000);

    const call = operator.request("node.invoke", { nodeId, command: "slow.leave", params: {}, timeoutMs: 60_000 });
    await eventually(() => expect(release).toBeDefined());
    node.close();
    await expect(call).rejects.toMatchObject({
      code: "UNAVAILABLE",
      message: expect.stringMatching(/disconnected while running slow.leave/),
    });
    await expect(operator.request("node.invoke", { nodeId, command: "slow.leave", params: {} })).rejects.toMatchObject({
      code: "UNAVAILABLE",
      message: expect.stringMatching(/not connected/),
    });
  });

  it("the node role needs a device identity, and an operator cannot answer for a node", async () => {
    const gateway = await startGateway();
    const withoutDevice = await import("@gateway/client").then(({ createGatewayClient }) =>
      createGatewayClient({ url: gateway.url, token: TOKEN, role: "node", reconnect: false }),
    );
    opened.push(withoutDevice);
    await expect(withoutDevice.ready()).rejects.toMatchObject({ detailCode: "DEVICE_IDENTITY_REQUIRED" });
    const operator = await gateway.client();
    await expect(operator.request("node.invoke.result", { id: "x", nodeId: "y", ok: true })).rejects.toMatchObject({
      code: "FORBIDDEN",
    });
  });
});
