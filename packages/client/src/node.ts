// @gateway/client/node — what only Node has: a file store for the device identity.
import { chmod, mkdir, readFile, rename, writeFile } from "node:fs/promises";
import { dirname } from "node:path";
import type { DeviceKeyStore, StoredDeviceIdentity } from "./device-identity.js";

/**
 * A device identity kept in a JSON file (mode 0600, its directory 0700), written atomically (temp file, rename): the
 * private key and the device tokens never sit in a file others can read.
 */
export function createFileKeyStore(path: string): DeviceKeyStore {
  return {
    async load() {
      let text: string;
      try {
        text = await readFile(path, "utf8");
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code === "ENOENT") return undefined;
        throw error;
      }
      try {
        return JSON.parse(text) as StoredDeviceIdentity;
      } catch {
        throw new Error(`${path} is not a device identity (invalid JSON): move it away to create a new device`);
      }
    },
    async save(identity) {
      await mkdir(dirname(path), { recursive: true, mode: 0o700 });
      const temporary = `${path}.${process.pid}.${Date.now()}.tmp`;
      await writeFile(temporary, `${JSON.stringify(identity, null, 2)}\n`, { mode: 0o600 });
      await chmod(temporary, 0o600);
      await rename(temporary, path);
    },
  };
}
