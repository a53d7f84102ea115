import { createHash, createPublicKey, verify } from "node:crypto";
import { mkdtempSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { createMemoryKeyStore, deviceAuthPayload, loadDeviceIdentity } from "./device-identity.js";
import { createFileKeyStore } from "./node.js";

const input = {
  clientId: "cli",
  clientMode: "cli",
  role: "operator",
  scopes: ["operator.read"],
  signedAtMs: 1_700_000_000_000,
  token: undefined,
  nonce: "n-1",
  platform: " Linux ",
  deviceFamily: undefined,
};

describe("device identity", () => {
  it("is kept by its store: the same id (sha256 of the raw key) on every load", async () => {
    const store = createMemoryKeyStore();
    const first = await loadDeviceIdentity(store);
    const again = await loadDeviceIdentity(store);
    expect(again.deviceId).toBe(first.deviceId);
    const raw = Buffer.from(first.publicKey, "base64url");
    expect(raw).toHaveLength(32);
    expect(first.deviceId).toBe(createHash("sha256").update(raw).digest("hex"));
    expect((await loadDeviceIdentity(createMemoryKeyStore())).deviceId).not.toBe(first.deviceId);
  });

  it("signs the v3 payload so that node:crypto verifies it", async () => {
    const identity = await loadDeviceIdentity(createMemoryKeyStore());
    const block = await identity.sign(input);
    expect(block).toMatchObject({ id: identity.deviceId, signedAt: input.signedAtMs, nonce: "n-1" });
    const key = createPublicKey({
      key: Buffer.concat([
        Buffer.from("302a300506032b6570032100", "hex"),
        Buffer.from(identity.publicKey, "base64url"),
      ]),
      format: "der",
      type: "spki",
    });
    const payload = deviceAuthPayload(identity.deviceId, input);
    expect(payload).toBe(`v3|${identity.deviceId}|cli|cli|operator|operator.read|1700000000000||n-1|linux|`);
    expect(verify(null, Buffer.from(payload), key, Buffer.from(block.signature, "base64url"))).toBe(true);
  });

  it("keeps device tokens per role, in a private file", async () => {
    const dir = mkdtempSync(join(tmpdir(), "client-identity-"));
    try {
      const path = join(dir, "nested", "device.json");
      const identity = await loadDeviceIdentity(createFileKeyStore(path));
      await identity.setToken("operator", { token: "t-1", scopes: ["operator.read"] });
      expect(statSync(path).mode & 0o777).toBe(0o600);
      const reloaded = await loadDeviceIdentity(createFileKeyStore(path));
      expect(reloaded.deviceId).toBe(identity.deviceId);
      expect(reloaded.token("operator")).toEqual({ token: "t-1", scopes: ["operator.read"] });
      await reloaded.setToken("operator", undefined);
      expect((await loadDeviceIdentity(createFileKeyStore(path))).token("operator")).toBeUndefined();
      writeFileSync(path, "not json");
      await expect(loadDeviceIdentity(createFileKeyStore(path))).rejects.toThrow(/not a device identity/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
