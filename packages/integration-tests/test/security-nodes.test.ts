// Security regression suite — nodes (SECURITY.md): a node runs only what an operator approved, and only for itself.
import { createMemoryKeyStore, createNodeClient, type GatewayClient, loadDeviceIdentity } from "@gateway/client";
import { eventually } from "@gateway/vitest-preset/wait";
import { afterEach, describe, expect, it } from "vitest";
import { startGateway, stopAll, TOKEN } from "./harness.js";

afterEach(stopAll);
const opened: GatewayClient[] = [];
afterEach(() => {
  for (const client of opened.splice(0)) client.close();
});

describe("security: nodes", () => {
  it("a command the node was not approved for is never sent to it", async () => {
    const gateway = await startGateway();
    const operator = await gateway.client();
    let ran = 0;
    const node = createNodeClient({
      url: gateway.url,
      token: TOKEN,
      device: await loadDeviceIdentity(createMemoryKeyStore()),
      reconnect: false,
      commands: {
        "system.which": () => ({}),
        "system.run": () => {
          ran++;
          return { exitCode: 0 };
        },
      },
    });
    opened.push(node);
    await node.ready();
    const { pending } = await eventually(async () => {
      const list = await operator.request("node.pair.list");
      expect(list.pending).toHaveLength(1);
      return list;
    });
    const nodeId = pending[0]!.nodeId;
    // unapproved: refused before anything reaches the node
    await expect(operator.request("node.invoke", { nodeId, command: "system.run", params: {} })).rejects.toMatchObject({
      code: "INVALID_REQUEST",
    });
    expect(ran).toBe(0);
    await operator.request("node.pair.reject", { requestId: pending[0]!.requestId });
    await expect(operator.request("node.invoke", { nodeId, command: "system.run", params: {} })).rejects.toMatchObject({
      code: "INVALID_REQUEST",
    });
    expect(ran).toBe(0);
  });

  it("a node cannot answer another node's invoke, nor call operator methods", async () => {
    const gateway = await startGateway();
    const node = createNodeClient({
      url: gateway.url,
      token: TOKEN,
      device: await loadDeviceIdentity(createMemoryKeyStore()),
      reconnect: false,
      commands: {},
    });
    opened.push(node);
    await node.ready();
    await expect(node.call("node.invoke.result", { id: "x", nodeId: "someone-else", ok: true })).rejects.toMatchObject({
      code: "FORBIDDEN",
    });
    await expect(node.call("config.get")).rejects.toMatchObject({ code: "FORBIDDEN" });
    await expect(node.call("device.pair.list")).rejects.toMatchObject({ code: "FORBIDDEN" });
  });
});
