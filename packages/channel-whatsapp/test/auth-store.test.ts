import { spawn } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterEach, describe, expect, it } from "vitest";
import { lockCredentials } from "../src/auth-lock.js";
import { AuthStore } from "../src/auth-store.js";
import { expectedValuesAfter } from "./fixtures/storm-ops.js";

const child = join(dirname(fileURLToPath(import.meta.url)), "fixtures", "auth-storm.mjs");
const roots: string[] = [];
const tempRoot = () => {
  const root = mkdtempSync(join(tmpdir(), "wa-auth-"));
  roots.push(root);
  return join(root, "credentials");
};
/** The creds of the linked state under `root` (opened and closed again). */
async function linkedCreds(root: string) {
  const store = await AuthStore.open(root);
  const creds = store?.creds;
  await store?.close();
  return creds;
}
afterEach(() => {
  for (const root of roots.splice(0)) rmSync(root, { recursive: true, force: true });
});

/** Files under a directory, recursively, with their modes. */
const files = (root: string): Array<{ path: string; mode: number }> =>
  readdirSync(root, { recursive: true, withFileTypes: true })
    .filter((entry) => entry.isFile())
    .map((entry) => {
      const path = join(entry.parentPath, entry.name);
      return { path, mode: statSync(path).mode & 0o777 };
    });

describe("auth store", () => {
  it("reads back creds and keys as written (buffers too), files 0600 and directories 0700", async () => {
    const root = tempRoot();
    const store = await AuthStore.createStaged(root, { me: { id: "1@s.whatsapp.net" }, noise: Buffer.from([1, 2]) });
    await store.keys.set({ "pre-key": { "1": { public: new Uint8Array([9]), private: Buffer.from("p") } } });
    await store.keys.set({
      session: { "a.0": Buffer.from("s") },
      "pre-key": { "1": null, "2": { public: Buffer.from("x") } },
    });
    store.creds.registered = true;
    await store.saveCreds();
    await store.commit();
    await store.close();
    const again = (await AuthStore.open(root))!;
    expect(again.creds).toEqual({ me: { id: "1@s.whatsapp.net" }, noise: Buffer.from([1, 2]), registered: true });
    expect(await again.keys.get("pre-key", ["1", "2"])).toEqual({ "2": { public: Buffer.from("x") } });
    expect(await again.keys.get("session", ["a.0", "b.0"])).toEqual({ "a.0": Buffer.from("s") });
    await again.close();
    for (const file of files(root)) expect(file.mode, file.path).toBe(0o600);
    expect(statSync(root).mode & 0o777).toBe(0o700);
    expect(statSync(again.directory).mode & 0o777).toBe(0o700);
  });

  it("a torn last line (a crash in the middle of a write) is cut off; the lines before it count", async () => {
    const root = tempRoot();
    const store = await AuthStore.createStaged(root, { counter: 0 });
    await store.commit();
    store.creds.counter = 1;
    await store.saveCreds();
    store.creds.counter = 2;
    await store.saveCreds();
    await store.close();
    const journal = join(store.directory, "journal-1.log");
    const whole = readFileSync(journal, "utf8");
    writeFileSync(journal, `${whole}0badc0de {"c":{"counter":3}}\n${whole.slice(0, 20)}`);
    const again = (await AuthStore.open(root))!;
    expect(again.creds.counter).toBe(2);
    again.creds.counter = 4;
    await again.saveCreds();
    await again.close();
    expect(readFileSync(journal, "utf8")).toMatch(/^(?:[0-9a-f]{8} \{.*\}\n){3}$/);
    expect((await linkedCreds(root))!.counter).toBe(4);
  });

  it("folds the journal into a new snapshot when it grows, and keeps every key", async () => {
    const root = tempRoot();
    const store = await AuthStore.createStaged(root, { counter: 0 }, { compactBytes: 256 * 1024 });
    await store.commit();
    // ~600 KB of keys: the snapshot is written in several pieces.
    for (let index = 1; index <= 300; index++)
      await store.keys.set({
        "pre-key": { [String(index)]: { public: Buffer.alloc(32, index % 256), blob: Buffer.alloc(1500) } },
      });
    await store.close();
    const names = readdirSync(store.directory);
    expect(names.filter((name) => name.startsWith("snapshot-"))).toHaveLength(1);
    expect(names.find((name) => name.startsWith("snapshot-"))).not.toBe("snapshot-1.json");
    const again = (await AuthStore.open(root))!;
    expect(again.count("pre-key")).toBe(300);
    expect(((await again.keys.get("pre-key", ["300"]))["300"] as { public: Buffer }).public[0]).toBe(300 % 256);
    await again.close();
  });

  it("a staged login is invisible until committed; discarding or abandoning it leaves the linked state as it was", async () => {
    const root = tempRoot();
    expect(await AuthStore.open(root)).toBeUndefined();
    const linked = await AuthStore.createStaged(root, { me: { id: "old" } });
    await linked.commit();
    await linked.close();
    const login = await AuthStore.createStaged(root, { me: { id: "new" } });
    await login.keys.set({ session: { x: Buffer.from("y") } });
    expect((await linkedCreds(root))!.me).toEqual({ id: "old" });
    await login.discard();
    const abandoned = await AuthStore.createStaged(root, { me: { id: "abandoned" } });
    await abandoned.close();
    const opened = (await AuthStore.open(root))!;
    expect(opened.creds.me).toEqual({ id: "old" });
    await opened.close();
    expect(readdirSync(root).filter((name) => name.startsWith("auth-"))).toHaveLength(1);
    const replacement = await AuthStore.createStaged(root, { me: { id: "new" } });
    await replacement.commit();
    await replacement.close();
    expect((await linkedCreds(root))!.me).toEqual({ id: "new" });
    expect(readdirSync(root).filter((name) => name.startsWith("auth-"))).toHaveLength(1);
  });

  it("clear removes the credentials (true once, then false)", async () => {
    const root = tempRoot();
    const store = await AuthStore.createStaged(root, { me: { id: "x" } });
    await store.commit();
    await store.close();
    expect(await AuthStore.clear(root)).toBe(true);
    expect(await AuthStore.open(root)).toBeUndefined();
    expect(await AuthStore.clear(root)).toBe(false);
    expect(readdirSync(root)).toEqual([]);
  });

  it("one owner: a second lock on the same credentials is refused until the first is released", async () => {
    const root = tempRoot();
    const first = await lockCredentials(root);
    expect("release" in first).toBe(true);
    expect(await lockCredentials(root)).toEqual({ heldBy: process.pid });
    if ("release" in first) await first.release();
    // A lock file left by a process that is gone is taken over.
    writeFileSync(join(root, "LOCK"), "999999\n");
    const second = await lockCredentials(root);
    expect("release" in second).toBe(true);
    if ("release" in second) await second.release();
  });
});

// ---- kill -9 ----------------------------------------------------------------------------------------------------

const KILLS = Number(process.env.WHATSAPP_AUTH_KILLS ?? 200);

/** Run the storm child until it prints its first line, then (after `delayMs`) kill -9 it. */
function stormAndKill(root: string, mode: "storm" | "login", delayMs: number, waitReady: boolean) {
  return new Promise<{ first: string }>((resolve, reject) => {
    const process_ = spawn(process.execPath, [child, root, mode], { stdio: ["ignore", "pipe", "pipe"] });
    let first = "";
    let errors = "";
    let killed = false;
    const kill = () => {
      if (killed) return;
      killed = true;
      setTimeout(() => process_.kill("SIGKILL"), delayMs);
    };
    process_.stdout.on("data", (chunk) => {
      if (!first) first = String(chunk).split("\n")[0]!;
      kill();
    });
    process_.stderr.on("data", (chunk) => {
      errors += chunk;
    });
    if (!waitReady) kill();
    process_.once("exit", (code, signal) => {
      if (signal !== "SIGKILL") reject(new Error(`the storm child exited ${code}: ${errors}`));
      else resolve({ first });
    });
  });
}

describe(`auth state under kill -9 (${KILLS} kills)`, () => {
  it("kill -9 during keys.set storms (and compactions): always exactly the state after some operation, never older than what was read", async () => {
    const root = tempRoot();
    let durable = 0;
    let opened = 0;
    for (let kill = 0; kill < KILLS; kill++) {
      // Mostly mid-storm; every fifth kill lands early (opening, cutting a torn line, the first compaction).
      const early = kill % 5 === 4;
      const { first } = await stormAndKill(
        root,
        "storm",
        early ? Math.floor(Math.random() * 15) : 5 + Math.floor(Math.random() * 60),
        !early,
      );
      if (first.startsWith("corrupt")) throw new Error(`kill ${kill}: the child read back ${first}`);
      if (first.startsWith("ready")) {
        opened++;
        expect(Number(first.split(" ")[1])).toBeGreaterThanOrEqual(durable);
      }
      const store = await AuthStore.open(root, { compactBytes: 48 * 1024 });
      if (!store) {
        // Killed before the very first commit: nothing was ever linked.
        expect(durable).toBe(0);
        continue;
      }
      const counter = Number(store.creds.counter);
      expect(counter).toBeGreaterThanOrEqual(durable);
      const problem = await expectedValuesAfter(counter, store);
      await store.close();
      if (problem) throw new Error(`kill ${kill}: ${problem}`);
      durable = counter;
    }
    expect(opened).toBeGreaterThan(KILLS / 2);
    expect(durable).toBeGreaterThan(KILLS);
  }, 300_000);

  it("a login killed before it completes leaves no credentials behind, and the linked ones untouched", async () => {
    const root = tempRoot();
    for (let kill = 0; kill < 10; kill++) {
      await stormAndKill(root, "login", Math.floor(Math.random() * 40), kill % 2 === 0);
      expect(await AuthStore.open(root)).toBeUndefined();
      expect(readdirSync(root).filter((name) => name.startsWith("auth-"))).toEqual([]);
    }
    const linked = await AuthStore.createStaged(root, { counter: 7 });
    await linked.commit();
    await linked.close();
    for (let kill = 0; kill < 5; kill++) {
      await stormAndKill(root, "login", Math.floor(Math.random() * 40), true);
      const store = (await AuthStore.open(root))!;
      expect(store.creds.counter).toBe(7);
      await store.close();
    }
  }, 60_000);
});
