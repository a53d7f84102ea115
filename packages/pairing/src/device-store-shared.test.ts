import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { type DeviceEntry, DeviceStore } from "./device-store.js";
import { type RecordChange, type RecordListener, type RecordStorage, unchanged } from "./record-storage.js";

let stateDir = "";
beforeEach(() => {
  stateDir = mkdtempSync(join(tmpdir(), "gw-devices-shared-"));
});
afterEach(() => rmSync(stateDir, { recursive: true, force: true }));

/** A shared storage in memory: what another instance writes is `remote()`. */
class MemoryStorage implements RecordStorage<DeviceEntry> {
  readonly records = new Map<string, DeviceEntry>();
  #listener: RecordListener<DeviceEntry> | undefined;
  async load() {
    return new Map(this.records);
  }
  async update(id: string, change: RecordChange<DeviceEntry>) {
    const next = change(structuredClone(this.records.get(id)));
    if (next === unchanged) return { changed: false, record: this.records.get(id) };
    if (next === undefined) this.records.delete(id);
    else this.records.set(id, next);
    return { changed: true, record: next };
  }
  watch(listener: RecordListener<DeviceEntry>) {
    this.#listener = listener;
  }
  remote(id: string, record: DeviceEntry | undefined, note?: string) {
    if (record === undefined) this.records.delete(id);
    else this.records.set(id, record);
    this.#listener?.(id, record, note);
  }
}

const ask = {
  deviceId: "d1",
  publicKey: "pk",
  role: "operator",
  scopes: ["operator.read"],
  reason: "not-paired" as const,
};

describe("device store on a shared storage", () => {
  it("vouches for nothing until shared; follows revocations made elsewhere, and token changes missed in an outage", async () => {
    const store = new DeviceStore(stateDir);
    store.awaitShare("not read yet");
    expect(store.staleness()).toBe("not read yet");
    const storage = new MemoryStorage();
    await store.share(storage);
    expect(store.staleness()).toBeUndefined();
    const revoked: Array<[string, string | undefined]> = [];
    store.onRevoked((deviceId, role) => revoked.push([deviceId, role]));

    await store.approveDirect(ask);
    const token = await store.issueToken("d1", "operator");
    expect(store.verifyToken("d1", "operator", token!.token)).toBeDefined();
    const entry = storage.records.get("d1")!;

    // A token issued elsewhere (a connect on another instance): followed, not a revocation.
    const reissued = structuredClone(entry);
    reissued.device!.tokens.operator!.hash = "0".repeat(64);
    storage.remote("d1", reissued);
    expect(store.verifyToken("d1", "operator", token!.token)).toBeUndefined();
    expect(revoked).toEqual([]);

    // Revoked elsewhere: told at once.
    storage.remote("d1", entry, "revoke:operator");
    expect(revoked).toEqual([["d1", "operator"]]);

    // Back after an outage: a token that changed meanwhile counts as revoked, a device gone as every role.
    storage.remote("d1", reissued, "resync");
    storage.remote("d1", undefined, "resync");
    expect(revoked).toEqual([
      ["d1", "operator"],
      ["d1", "operator"],
      ["d1", undefined],
    ]);
    expect(store.device("d1")).toBeUndefined();
  });
});
