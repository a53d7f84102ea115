// Device identity: an Ed25519 key pair per device. The device id is hex(sha256(raw public key)); a connect carries a
// signature over a `|`-joined payload that binds the device to this connection (the server's challenge nonce), to what
// it asks for (client, role, scopes), to the credential it presents and to its platform. Byte for byte the reference's
// format, so its clients pair with us and ours with it.
import { createHash, createPublicKey, verify } from "node:crypto";

/** How far `signedAt` may be from the server clock. */
export const DEVICE_SIGNATURE_SKEW_MS = 2 * 60_000;

/** The DER prefix of an Ed25519 SubjectPublicKeyInfo; the raw 32-byte key follows it. */
const ED25519_SPKI_PREFIX = Buffer.from("302a300506032b6570032100", "hex");

/** What a device signs (the v2 payload leaves out platform and deviceFamily). */
export interface DeviceAuthPayloadFields {
  deviceId: string;
  clientId: string;
  clientMode: string;
  role: string;
  scopes: readonly string[];
  signedAtMs: number;
  /** The credential sent with the connect (`auth.token`, else `auth.deviceToken`), or empty. */
  token: string | undefined;
  nonce: string;
  platform?: string | undefined;
  deviceFamily?: string | undefined;
}

/** Platform and device family as they are signed: trimmed, ASCII lower case. */
export function normalizeDeviceMetadata(value: string | undefined): string {
  if (typeof value !== "string") return "";
  return value.trim().replace(/[A-Z]/g, (char) => char.toLowerCase());
}

/** The UTF-8 string a device signs, in the `v3` (default) or legacy `v2` format. */
export function buildDeviceAuthPayload(fields: DeviceAuthPayloadFields, version: "v2" | "v3" = "v3"): string {
  const base = [
    version,
    fields.deviceId,
    fields.clientId,
    fields.clientMode,
    fields.role,
    fields.scopes.join(","),
    String(fields.signedAtMs),
    fields.token ?? "",
    fields.nonce,
  ];
  if (version === "v2") return base.join("|");
  return [...base, normalizeDeviceMetadata(fields.platform), normalizeDeviceMetadata(fields.deviceFamily)].join("|");
}

/** The raw 32-byte key of a base64url/base64 raw key or a PEM SPKI key; undefined when it is not an Ed25519 key. */
export function rawPublicKey(publicKey: string): Buffer | undefined {
  try {
    if (publicKey.includes("BEGIN")) {
      const der = createPublicKey(publicKey).export({ type: "spki", format: "der" });
      if (der.length !== 44 || !der.subarray(0, 12).equals(ED25519_SPKI_PREFIX)) return undefined;
      return Buffer.from(der.subarray(12));
    }
    if (!/^[A-Za-z0-9+/_-]+={0,2}$/.test(publicKey)) return undefined;
    const raw = Buffer.from(publicKey.replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, ""), "base64url");
    return raw.length === 32 ? raw : undefined;
  } catch {
    return undefined;
  }
}

/** The device id of a public key: hex(sha256(raw key)); undefined for a key that is not Ed25519. */
export function deviceIdFromPublicKey(publicKey: string): string | undefined {
  const raw = rawPublicKey(publicKey);
  return raw ? createHash("sha256").update(raw).digest("hex") : undefined;
}

/** Whether `signature` (base64url) is a valid Ed25519 signature of `payload` by `publicKey`. */
export function verifyDeviceSignature(publicKey: string, payload: string, signature: string): boolean {
  const raw = rawPublicKey(publicKey);
  if (!raw) return false;
  try {
    const key = createPublicKey({ key: Buffer.concat([ED25519_SPKI_PREFIX, raw]), format: "der", type: "spki" });
    const bytes = Buffer.from(signature.replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, ""), "base64url");
    if (bytes.length !== 64) return false;
    return verify(null, Buffer.from(payload, "utf8"), key, bytes);
  } catch {
    return false;
  }
}

/** The `device` block of a connect. */
export interface DeviceProof {
  id: string;
  publicKey: string;
  signature: string;
  signedAt: number;
  nonce: string;
}

/** Why a device proof was refused (the connect error's `details.code`). */
export type DeviceProofFailureCode =
  | "DEVICE_AUTH_PUBLIC_KEY_INVALID"
  | "DEVICE_AUTH_DEVICE_ID_MISMATCH"
  | "DEVICE_AUTH_SIGNATURE_EXPIRED"
  | "DEVICE_AUTH_NONCE_REQUIRED"
  | "DEVICE_AUTH_NONCE_MISMATCH"
  | "DEVICE_AUTH_SIGNATURE_INVALID";

/** The outcome of checking a device proof. */
export type DeviceProofResult =
  | { ok: true; deviceId: string; publicKey: string; version: "v2" | "v3" }
  | { ok: false; code: DeviceProofFailureCode; message: string };

/** What the proof must match: the connect's own fields, the server's nonce and clock. */
export interface DeviceProofExpectation extends Omit<DeviceAuthPayloadFields, "deviceId" | "signedAtMs" | "nonce"> {
  /** The nonce this connection's `connect.challenge` carried. */
  challengeNonce: string;
  now: number;
}

/**
 * Check a connect's device proof: the key is Ed25519, the id is its hash, the signature is fresh (±2 min), covers this
 * connection's challenge nonce and the connect's client, role, scopes, credential (and, in v3, platform and family).
 * Each failure says what to fix.
 */
export function verifyDeviceProof(device: DeviceProof, expected: DeviceProofExpectation): DeviceProofResult {
  const raw = rawPublicKey(device.publicKey);
  if (!raw) {
    return {
      ok: false,
      code: "DEVICE_AUTH_PUBLIC_KEY_INVALID",
      message: "device.publicKey is not an Ed25519 public key (send the raw 32-byte key, base64url)",
    };
  }
  const deviceId = createHash("sha256").update(raw).digest("hex");
  if (device.id !== deviceId) {
    return {
      ok: false,
      code: "DEVICE_AUTH_DEVICE_ID_MISMATCH",
      message: "device.id must be hex(sha256(raw public key)); it does not match device.publicKey",
    };
  }
  if (!Number.isFinite(device.signedAt) || Math.abs(expected.now - device.signedAt) > DEVICE_SIGNATURE_SKEW_MS) {
    return {
      ok: false,
      code: "DEVICE_AUTH_SIGNATURE_EXPIRED",
      message: "device signature expired: sign again with signedAt = now (the clocks may differ by 2 minutes at most)",
    };
  }
  const nonce = device.nonce.trim();
  if (!nonce) {
    return {
      ok: false,
      code: "DEVICE_AUTH_NONCE_REQUIRED",
      message: "device.nonce must be the connect.challenge nonce",
    };
  }
  if (nonce !== expected.challengeNonce) {
    return {
      ok: false,
      code: "DEVICE_AUTH_NONCE_MISMATCH",
      message: "device nonce mismatch: sign the nonce of this connection's connect.challenge",
    };
  }
  const fields: DeviceAuthPayloadFields = { ...expected, deviceId, signedAtMs: device.signedAt, nonce };
  const publicKey = raw.toString("base64url");
  for (const version of ["v3", "v2"] as const) {
    if (verifyDeviceSignature(publicKey, buildDeviceAuthPayload(fields, version), device.signature))
      return { ok: true, deviceId, publicKey, version };
  }
  return {
    ok: false,
    code: "DEVICE_AUTH_SIGNATURE_INVALID",
    message:
      "device signature invalid: sign v3|deviceId|clientId|clientMode|role|scopes|signedAt|token|nonce|platform|deviceFamily",
  };
}
