import { spawn } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { removeStaleTempFiles, writeFileAtomic, writeFileAtomicSync } from "../src/index.js";

const packageDir = join(dirname(fileURLToPath(import.meta.url)), "..");
let dir = "";
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), "gateway-state-"));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

function assertWhole(path: string): number {
  const document = JSON.parse(readFileSync(path, "utf8")) as { version: number; filler: string };
  expect(document.filler).toBe(String(document.version).repeat(40_000));
  return document.version;
}

describe("writeFileAtomic", () => {
  it("writes new files 0600 and keeps an existing file's mode", async () => {
    const path = join(dir, "a.json");
    await writeFileAtomic(path, "{}");
    expect(statSync(path).mode & 0o777).toBe(0o600);
    writeFileSync(join(dir, "b.json"), "old", { mode: 0o644 });
    writeFileAtomicSync(join(dir, "b.json"), "new");
    expect(readFileSync(join(dir, "b.json"), "utf8")).toBe("new");
    expect(statSync(join(dir, "b.json")).mode & 0o777).toBe(0o644);
    expect(readdirSync(dir).sort()).toEqual(["a.json", "b.json"]);
  });

  it("fails cleanly when the directory is missing, leaving nothing behind", async () => {
    await expect(writeFileAtomic(join(dir, "missing", "x.json"), "{}")).rejects.toThrow(/ENOENT/);
    expect(readdirSync(dir)).toEqual([]);
  });

  it("leaves the old or the new version when the writer is killed at random points", async () => {
    const path = join(dir, "state.json");
    let lastSeen = 0;
    let random = 12_345;
    for (let round = 0; round < 12; round++) {
      const child = spawn(
        process.execPath,
        [
          "--conditions=@gateway/source",
          "--import",
          "tsx",
          join(packageDir, "test", "writer-child.ts"),
          path,
          "announce",
        ],
        { cwd: packageDir, stdio: ["ignore", "pipe", "inherit"] },
      );
      await new Promise<void>((resolve) =>
        child.stdout.on("data", (data: Buffer) => data.includes("FIRST") && resolve()),
      );
      random = (random * 1_103_515_245 + 12_345) % 2 ** 31;
      await new Promise((resolve) => setTimeout(resolve, random % 60));
      child.kill("SIGKILL");
      await new Promise((resolve) => child.once("exit", resolve));
      const version = assertWhole(path);
      expect(version).toBeGreaterThanOrEqual(1);
      lastSeen = version;
    }
    expect(lastSeen).toBeGreaterThan(0);
    // Temp files a killed writer left behind are recognised and removed.
    await removeStaleTempFiles(path);
    expect(readdirSync(dir)).toEqual(["state.json"]);
  }, 60_000);
});
