import { createHash, generateKeyPairSync, sign } from "node:crypto";
import { describe, expect, it } from "vitest";
import { buildDeviceAuthPayload, deviceIdFromPublicKey, verifyDeviceProof } from "./device-identity.js";

function keyPair() {
  const { publicKey, privateKey } = generateKeyPairSync("ed25519");
  const raw = publicKey.export({ type: "spki", format: "der" }).subarray(12);
  return {
    raw,
    publicKey: raw.toString("base64url"),
    pem: publicKey.export({ type: "spki", format: "pem" }),
    privateKey,
  };
}

const connect = {
  clientId: "cli",
  clientMode: "cli",
  role: "operator",
  scopes: ["operator.read"],
  token: "t".repeat(20),
};

function proof(
  keys: ReturnType<typeof keyPair>,
  overrides: { nonce?: string; signedAt?: number; version?: "v2" | "v3" } = {},
) {
  const deviceId = createHash("sha256").update(keys.raw).digest("hex");
  const signedAt = overrides.signedAt ?? Date.now();
  const nonce = overrides.nonce ?? "nonce-1";
  const payload = buildDeviceAuthPayload(
    { ...connect, deviceId, signedAtMs: signedAt, nonce, platform: " Linux ", deviceFamily: "Desktop" },
    overrides.version ?? "v3",
  );
  const signature = sign(null, Buffer.from(payload), keys.privateKey).toString("base64url");
  return { id: deviceId, publicKey: keys.publicKey, signature, signedAt, nonce };
}

const expected = (now = Date.now()) => ({
  ...connect,
  platform: "linux",
  deviceFamily: "desktop",
  challengeNonce: "nonce-1",
  now,
});

describe("device identity", () => {
  it("the v3 payload is the reference's: |-joined, platform and family trimmed and lower-cased", () => {
    expect(
      buildDeviceAuthPayload({
        deviceId: "d",
        clientId: "c",
        clientMode: "m",
        role: "operator",
        scopes: ["a", "b"],
        signedAtMs: 5,
        token: undefined,
        nonce: "n",
        platform: " MacOS ",
        deviceFamily: "Mac",
      }),
    ).toBe("v3|d|c|m|operator|a,b|5||n|macos|mac");
  });

  it("the device id is sha256 of the raw key, from base64url or PEM", () => {
    const keys = keyPair();
    const id = createHash("sha256").update(keys.raw).digest("hex");
    expect(deviceIdFromPublicKey(keys.publicKey)).toBe(id);
    expect(deviceIdFromPublicKey(String(keys.pem))).toBe(id);
    expect(deviceIdFromPublicKey("not a key")).toBeUndefined();
  });

  it("accepts v3 and v2 signatures over the challenge nonce", () => {
    const keys = keyPair();
    expect(verifyDeviceProof(proof(keys), expected())).toMatchObject({ ok: true, version: "v3" });
    expect(verifyDeviceProof(proof(keys, { version: "v2" }), expected())).toMatchObject({ ok: true, version: "v2" });
  });

  it("refuses each forgery with its own code", () => {
    const keys = keyPair();
    const other = keyPair();
    const good = proof(keys);
    const code = (result: ReturnType<typeof verifyDeviceProof>) => (result.ok ? "ok" : result.code);
    expect(code(verifyDeviceProof({ ...good, id: "0".repeat(64) }, expected()))).toBe("DEVICE_AUTH_DEVICE_ID_MISMATCH");
    expect(code(verifyDeviceProof({ ...good, publicKey: "abc" }, expected()))).toBe("DEVICE_AUTH_PUBLIC_KEY_INVALID");
    expect(code(verifyDeviceProof(proof(keys, { signedAt: Date.now() - 3 * 60_000 }), expected()))).toBe(
      "DEVICE_AUTH_SIGNATURE_EXPIRED",
    );
    expect(code(verifyDeviceProof(proof(keys, { nonce: "an-old-nonce" }), expected()))).toBe(
      "DEVICE_AUTH_NONCE_MISMATCH",
    );
    // signed by another key, or signed for other scopes than the connect asks for
    expect(code(verifyDeviceProof({ ...good, signature: proof(other).signature }, expected()))).toBe(
      "DEVICE_AUTH_SIGNATURE_INVALID",
    );
    expect(code(verifyDeviceProof(good, { ...expected(), scopes: ["operator.admin"] }))).toBe(
      "DEVICE_AUTH_SIGNATURE_INVALID",
    );
    expect(code(verifyDeviceProof(good, { ...expected(), token: "another-token-value" }))).toBe(
      "DEVICE_AUTH_SIGNATURE_INVALID",
    );
  });
});
