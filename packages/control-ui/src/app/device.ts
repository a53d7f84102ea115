// This browser's device identity: an Ed25519 key pair made with WebCrypto and kept in localStorage with the device
// tokens the gateway issues for it, so the gateway pairs this browser once (on loopback it approves it by itself)
// and knows it afterwards. WebCrypto's Ed25519 exists only in a secure context (https, or localhost): elsewhere there
// is no identity, and the gateway refuses the Control UI unless gateway.controlUi.allowInsecureAuth says otherwise.
import {
  type DeviceIdentity,
  type DeviceKeyStore,
  loadDeviceIdentity,
  type StoredDeviceIdentity,
} from "@gateway/client";

const STORAGE_KEY = "gateway.controlUi.device";

function localStorageKeyStore(key: string): DeviceKeyStore {
  return {
    async load() {
      const text = localStorage.getItem(key);
      if (!text) return undefined;
      try {
        return JSON.parse(text) as StoredDeviceIdentity;
      } catch {
        return undefined; // unreadable: a new identity (the gateway pairs it again)
      }
    },
    async save(identity) {
      localStorage.setItem(key, JSON.stringify(identity));
    },
  };
}

/** The browser's identity, or undefined where WebCrypto cannot make one (not a secure context). */
export async function browserDevice(): Promise<DeviceIdentity | undefined> {
  if (!globalThis.isSecureContext || !globalThis.crypto?.subtle) return undefined;
  try {
    return await loadDeviceIdentity(localStorageKeyStore(STORAGE_KEY));
  } catch {
    return undefined; // Ed25519 not supported by this browser
  }
}
