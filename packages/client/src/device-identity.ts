// A device identity for the client: an Ed25519 key pair made and used through WebCrypto (Node ≥ 22 and current
// browsers have it), kept by a pluggable key store, and the device tokens the gateway hands out for it. The signed
// payload is the protocol's (the reference's) v3 format, so the same identity pairs with either gateway.

/** What a key store keeps: the key pair (JWK, so any store can hold it as JSON) and the device tokens per role. */
export interface StoredDeviceIdentity {
  /** The private key as a JWK (`{kty:"OKP", crv:"Ed25519", d, x}`). */
  privateKeyJwk: JsonWebKey;
  /** Device tokens issued by the gateway, per role. */
  tokens?: Record<string, { token: string; scopes: string[]; issuedAtMs?: number }>;
}

/** Where a device identity lives between runs: a file (`createFileKeyStore` from `@gateway/client/node`), a browser's storage, memory. */
export interface DeviceKeyStore {
  load(): Promise<StoredDeviceIdentity | undefined>;
  save(identity: StoredDeviceIdentity): Promise<void>;
}

/** A store that forgets everything when the process ends (tests, one-off scripts). */
export function createMemoryKeyStore(initial?: StoredDeviceIdentity): DeviceKeyStore {
  let value = initial ? structuredClone(initial) : undefined;
  return {
    async load() {
      return value ? structuredClone(value) : undefined;
    },
    async save(identity) {
      value = structuredClone(identity);
    },
  };
}

/** What the client signs: the fields of the v3 payload. */
export interface DeviceSignatureInput {
  clientId: string;
  clientMode: string;
  role: string;
  scopes: readonly string[];
  signedAtMs: number;
  token: string | undefined;
  nonce: string;
  platform: string | undefined;
  deviceFamily: string | undefined;
}

/** The `device` block of a connect. */
export interface DeviceConnectBlock {
  id: string;
  publicKey: string;
  signature: string;
  signedAt: number;
  nonce: string;
}

const normalize = (value: string | undefined): string =>
  typeof value === "string" ? value.trim().replace(/[A-Z]/g, (char) => char.toLowerCase()) : "";

/** The v3 payload, byte for byte the protocol's. */
export function deviceAuthPayload(deviceId: string, input: DeviceSignatureInput): string {
  return [
    "v3",
    deviceId,
    input.clientId,
    input.clientMode,
    input.role,
    input.scopes.join(","),
    String(input.signedAtMs),
    input.token ?? "",
    input.nonce,
    normalize(input.platform),
    normalize(input.deviceFamily),
  ].join("|");
}

function base64url(bytes: Uint8Array): string {
  let binary = "";
  for (const byte of bytes) binary += String.fromCharCode(byte);
  return btoa(binary).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

function subtle(): SubtleCrypto {
  const value = globalThis.crypto?.subtle;
  if (!value)
    throw new Error(
      "device identity needs WebCrypto (crypto.subtle): Node ≥ 22, or a browser page over https/localhost",
    );
  return value;
}

/**
 * A device: its id (hex sha256 of the raw public key), its public key (raw, base64url), a signer for connects, and
 * its device tokens. Load it (or create it on first use) with `loadDeviceIdentity(store)`.
 */
export class DeviceIdentity {
  readonly deviceId: string;
  readonly publicKey: string;
  readonly #privateKey: CryptoKey;
  readonly #store: DeviceKeyStore;
  #stored: StoredDeviceIdentity;

  private constructor(
    deviceId: string,
    publicKey: string,
    privateKey: CryptoKey,
    store: DeviceKeyStore,
    stored: StoredDeviceIdentity,
  ) {
    this.deviceId = deviceId;
    this.publicKey = publicKey;
    this.#privateKey = privateKey;
    this.#store = store;
    this.#stored = stored;
  }

  /** The identity in `store`, or a new one saved there. */
  static async load(store: DeviceKeyStore): Promise<DeviceIdentity> {
    let stored = await store.load();
    if (!stored) {
      const pair = (await subtle().generateKey({ name: "Ed25519" }, true, ["sign", "verify"])) as CryptoKeyPair;
      stored = { privateKeyJwk: await subtle().exportKey("jwk", pair.privateKey), tokens: {} };
      await store.save(stored);
    }
    const jwk = stored.privateKeyJwk;
    if (jwk.kty !== "OKP" || jwk.crv !== "Ed25519" || !jwk.x || !jwk.d)
      throw new Error("the stored device identity is not an Ed25519 key: remove it to create a new device");
    const privateKey = await subtle().importKey("jwk", jwk, { name: "Ed25519" }, false, ["sign"]);
    const raw = Uint8Array.from(atob(jwk.x.replace(/-/g, "+").replace(/_/g, "/")), (char) => char.charCodeAt(0));
    const digest = new Uint8Array(await subtle().digest("SHA-256", raw));
    const deviceId = [...digest].map((byte) => byte.toString(16).padStart(2, "0")).join("");
    return new DeviceIdentity(deviceId, base64url(raw), privateKey, store, stored);
  }

  /** The `device` block for a connect answering `nonce`. */
  async sign(input: DeviceSignatureInput): Promise<DeviceConnectBlock> {
    const payload = new TextEncoder().encode(deviceAuthPayload(this.deviceId, input));
    const signature = new Uint8Array(await subtle().sign({ name: "Ed25519" }, this.#privateKey, payload));
    return {
      id: this.deviceId,
      publicKey: this.publicKey,
      signature: base64url(signature),
      signedAt: input.signedAtMs,
      nonce: input.nonce,
    };
  }

  /** The device token cached for `role`. */
  token(role: string): { token: string; scopes: string[] } | undefined {
    return this.#stored.tokens?.[role];
  }

  /** Keep (or, with undefined, forget) the device token for `role`. */
  async setToken(
    role: string,
    token: { token: string; scopes: string[]; issuedAtMs?: number } | undefined,
  ): Promise<void> {
    const tokens = { ...this.#stored.tokens };
    if (token) tokens[role] = token;
    else delete tokens[role];
    this.#stored = { ...this.#stored, tokens };
    await this.#store.save(this.#stored);
  }
}

/** Load the device identity kept in `store`, creating (and saving) one on first use. */
export function loadDeviceIdentity(store: DeviceKeyStore): Promise<DeviceIdentity> {
  return DeviceIdentity.load(store);
}
