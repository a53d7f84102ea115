import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DEVICE_PAIRING_TTL_MS, DeviceStore } from "@gateway/pairing";
import { afterEach, describe, expect, it } from "vitest";
import { connect, startGateway, type TestGateway } from "../../test/helpers.js";
import { DevicePairing } from "./device-pairing.js";

let gateway: TestGateway | undefined;
let stateDir = "";
afterEach(async () => {
  await gateway?.stop();
  gateway = undefined;
  rmSync(stateDir, { recursive: true, force: true });
});

describe("device pairing service", () => {
  it("expired requests are swept and operators are told (device.pair.resolved / node.pair.resolved: expired)", async () => {
    stateDir = mkdtempSync(join(tmpdir(), "device-pairing-sweep-"));
    let now = Date.now();
    const store = new DeviceStore(stateDir, { now: () => now });
    const devices = new DevicePairing({ store });
    gateway = await startGateway({ connectStages: devices.connectStages() });
    devices.attach(gateway.server);
    const { client } = await connect(gateway.url, { scopes: ["operator.pairing"] });
    const { request } = await store.request({
      deviceId: "d1",
      publicKey: "pk",
      role: "operator",
      scopes: [],
      reason: "not-paired",
    });
    await store.approveDirect({ deviceId: "n1", publicKey: "pk2", role: "node", scopes: [], reason: "not-paired" });
    const node = await store.requestNode({ nodeId: "n1", caps: [], commands: ["system.which"] });
    devices.sweep();
    expect(client.frames.filter((frame) => frame.event?.endsWith(".resolved"))).toHaveLength(0);
    now += DEVICE_PAIRING_TTL_MS + 1;
    devices.sweep();
    const device = await client.waitForEvent("device.pair.resolved");
    expect(device.payload).toMatchObject({ requestId: request.requestId, decision: "expired" });
    const resolvedNode = await client.waitForEvent("node.pair.resolved");
    expect(resolvedNode.payload).toMatchObject({ requestId: node.request.requestId, decision: "expired" });
    client.close();
  });
});
