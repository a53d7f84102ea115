import { spawn } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { acquireStateLock, readStateLock, STATE_LOCK_FILE, StateError } from "../src/index.js";

let dir = "";
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), "gateway-state-lock-"));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

/** A child process that holds the lock until it is killed; resolves once it holds it. */
function holder(): Promise<{ pid: number; kill(signal: NodeJS.Signals): Promise<void> }> {
  const script = `
    const { acquireStateLock } = await import(${JSON.stringify(new URL("../src/index.ts", import.meta.url).href)});
    const lock = acquireStateLock(process.argv[1], { version: "child" });
    lock.update({ url: "ws://127.0.0.1:4242" });
    process.stdout.write("held\\n");
    setInterval(() => {}, 1000);`;
  const child = spawn(process.execPath, ["--import", "tsx", "--input-type=module", "-e", script, dir], {
    stdio: ["ignore", "pipe", "inherit"],
  });
  return new Promise((resolve, reject) => {
    child.stdout.on("data", (chunk: Buffer) => {
      if (chunk.toString().includes("held"))
        resolve({
          pid: child.pid!,
          kill: (signal) =>
            new Promise<void>((done) => {
              child.once("exit", () => done());
              child.kill(signal);
            }),
        });
    });
    child.once("exit", (code) => reject(new Error(`holder exited ${code}`)));
  });
}

describe("one gateway per state directory", () => {
  it("a second holder is refused with the first one's pid and URL and how to run another instance", async () => {
    const first = await holder();
    try {
      const refusal = (() => {
        try {
          acquireStateLock(dir, {});
        } catch (error) {
          return error;
        }
      })();
      expect(StateError.isInstance(refusal)).toBe(true);
      expect(refusal).toMatchObject({ code: "STATE_LOCKED" });
      expect((refusal as Error).message).toMatch(
        new RegExp(`pid ${first.pid}\\) listening on ws://127\\.0\\.0\\.1:4242 .*--state-dir`),
      );
      // The refused process changed nothing: the holder's file is intact.
      expect(readStateLock(dir)).toMatchObject({ pid: first.pid, url: "ws://127.0.0.1:4242" });
    } finally {
      await first.kill("SIGTERM");
    }
  });

  it("a lock left by a killed process is taken over, and released only by its holder", async () => {
    const killed = await holder();
    await killed.kill("SIGKILL");
    expect(readStateLock(dir)?.pid).toBe(killed.pid);
    const lock = acquireStateLock(dir, { version: "test" });
    expect(readStateLock(dir)).toMatchObject({ pid: process.pid, version: "test" });
    expect(readdirSync(dir)).toEqual([STATE_LOCK_FILE]);
    // Two holders in one process are refused too (two gateways on one state dir).
    expect(() => acquireStateLock(dir, {})).toThrow(/already uses the state directory/);
    lock.release();
    lock.release();
    expect(existsSync(join(dir, STATE_LOCK_FILE))).toBe(false);
  });

  it("a stale lock of an earlier process with this pid (pid 1 in a container) is stale; garbage is replaced", () => {
    const path = join(dir, STATE_LOCK_FILE);
    writeFileSync(path, JSON.stringify({ pid: process.pid, startedAt: 1, processToken: "an-earlier-run" }));
    const lock = acquireStateLock(dir, {});
    lock.release();
    writeFileSync(path, "not a lock");
    acquireStateLock(dir, {}).release();
    // A release never removes a file another process wrote since.
    const mine = acquireStateLock(dir, {});
    writeFileSync(path, JSON.stringify({ pid: 1, startedAt: Date.now() }));
    mine.release();
    expect(JSON.parse(readFileSync(path, "utf8")).pid).toBe(1);
  });

  it("many contenders on one stale lock: exactly one wins", async () => {
    writeFileSync(join(dir, STATE_LOCK_FILE), JSON.stringify({ pid: 999_999_999, startedAt: 1 }));
    const script = `
      const { acquireStateLock } = await import(${JSON.stringify(new URL("../src/index.ts", import.meta.url).href)});
      try { acquireStateLock(process.argv[1], {}); process.stdout.write("won"); setTimeout(() => {}, 1500); }
      catch (error) { process.stdout.write(error.code); }`;
    const outcomes = await Promise.all(
      Array.from(
        { length: 6 },
        () =>
          new Promise<string>((resolve) => {
            const child = spawn(process.execPath, ["--import", "tsx", "--input-type=module", "-e", script, dir]);
            let output = "";
            child.stdout.on("data", (chunk: Buffer) => {
              output += chunk;
            });
            child.once("exit", () => resolve(output));
          }),
      ),
    );
    expect(outcomes.filter((outcome) => outcome === "won")).toHaveLength(1);
    expect(outcomes.filter((outcome) => outcome === "STATE_LOCKED")).toHaveLength(5);
  }, 30_000);
});
