import { mkdtempSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { DEVICE_PAIRING_TTL_MS, DeviceStore, scopesCover } from "./device-store.js";

let stateDir = "";
beforeEach(() => {
  stateDir = mkdtempSync(join(tmpdir(), "gw-devices-"));
});
afterEach(() => rmSync(stateDir, { recursive: true, force: true }));

const ask = (scopes: string[], role = "operator") => ({
  deviceId: "d1",
  publicKey: "pk",
  role,
  scopes,
  reason: "not-paired" as const,
  platform: "linux",
});

describe("device store", () => {
  it("pending → approved → a hashed token per role, kept across restarts in a 0600 file", async () => {
    let now = 1_000_000;
    const store = new DeviceStore(stateDir, { now: () => now });
    const first = await store.request(ask(["operator.read"]));
    expect(first.created).toBe(true);
    const again = await store.request(ask(["operator.write"]));
    expect(again).toMatchObject({ created: false, request: { requestId: first.request.requestId } });
    expect(again.request.scopes).toEqual(["operator.read", "operator.write"]);
    const approved = await store.approve(first.request.requestId);
    expect(approved?.device).toMatchObject({ roles: ["operator"], scopes: ["operator.read", "operator.write"] });
    expect(store.list().pending).toHaveLength(0);

    const issued = await store.issueToken("d1", "operator");
    expect(issued?.scopes).toEqual(["operator.read", "operator.write"]);
    expect(await store.issueToken("d1", "operator", ["operator.admin"])).toBeUndefined();
    expect(await store.issueToken("d1", "node")).toBeUndefined();
    const text = readFileSync(store.path, "utf8");
    expect(text).not.toContain(issued!.token);
    expect(statSync(store.path).mode & 0o777).toBe(0o600);
    expect(statSync(join(stateDir, "devices")).mode & 0o777).toBe(0o700);

    const reopened = new DeviceStore(stateDir, { now: () => now });
    expect(reopened.verifyToken("d1", "operator", issued!.token)?.scopes).toEqual(["operator.read", "operator.write"]);
    expect(reopened.verifyToken("d1", "operator", `${issued!.token}x`)).toBeUndefined();
    expect(reopened.verifyToken("d1", "node", issued!.token)).toBeUndefined();

    const rotated = await reopened.issueToken("d1", "operator", ["operator.read"]);
    expect(reopened.verifyToken("d1", "operator", issued!.token)).toBeUndefined();
    expect(reopened.verifyToken("d1", "operator", rotated!.token)?.scopes).toEqual(["operator.read"]);
    expect(await reopened.revokeToken("d1", "operator")).toBe(true);
    expect(reopened.verifyToken("d1", "operator", rotated!.token)).toBeUndefined();
    expect(await reopened.revokeToken("d1", "operator")).toBe(false);

    now += 1;
    expect(await reopened.remove("d1")).toBe(true);
    expect(reopened.device("d1")).toBeUndefined();
    expect(await reopened.remove("d1")).toBe(false);
  });

  it("requests expire after 5 minutes; rejection and expiry leave the device unpaired", async () => {
    let now = 1_000_000;
    const store = new DeviceStore(stateDir, { now: () => now });
    const { request } = await store.request(ask(["operator.read"]));
    now += DEVICE_PAIRING_TTL_MS + 1;
    expect(store.expire().devices.map((expired) => expired.requestId)).toEqual([request.requestId]);
    expect(await store.approve(request.requestId)).toBeUndefined();
    const next = await store.request(ask(["operator.read"]));
    expect((await store.reject(next.request.requestId))?.deviceId).toBe("d1");
    expect(store.device("d1")).toBeUndefined();
  });

  it("a node's command surface is approved in the same store", async () => {
    const store = new DeviceStore(stateDir);
    await store.approveDirect(ask([], "node"));
    const { request, created } = await store.requestNode({
      nodeId: "d1",
      caps: ["system"],
      commands: ["system.which"],
    });
    expect(created).toBe(true);
    expect((await store.requestNode({ nodeId: "d1", caps: ["system"], commands: ["system.which"] })).created).toBe(
      false,
    );
    const approved = await store.approveNode(request.requestId);
    expect(approved?.device.node?.commands).toEqual(["system.which"]);
    expect(await store.renameNode("d1", "kitchen")).toBe(true);
    expect(new DeviceStore(stateDir).pairedNodes()[0]?.node).toMatchObject({ displayName: "kitchen" });
  });

  it("scope coverage: admin covers all, write covers read", () => {
    expect(scopesCover(["operator.admin"], ["operator.pairing"])).toBe(true);
    expect(scopesCover(["operator.write"], ["operator.read"])).toBe(true);
    expect(scopesCover(["operator.read"], ["operator.write"])).toBe(false);
  });
});
