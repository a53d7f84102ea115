import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Type } from "@sinclair/typebox";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { JsonStateFile, SerialWriter, StateError, type StateFileProblem } from "../src/index.js";

const Approvals = Type.Object({ version: Type.Literal(1), approved: Type.Array(Type.String()) });
let dir = "";
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), "gateway-state-file-"));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

const file = (name = "approvals.json", onProblem?: (problem: StateFileProblem) => void) =>
  new JsonStateFile(join(dir, name), {
    schema: Approvals,
    empty: () => ({ version: 1 as const, approved: [] }),
    ...(onProblem ? { onProblem } : {}),
  });

describe("JsonStateFile", () => {
  it("reads what it wrote, 0600, and starts empty without a file", async () => {
    const state = file();
    expect(state.read()).toEqual({ version: 1, approved: [] });
    await state.write({ version: 1, approved: ["ada"] });
    expect(file().read()).toEqual({ version: 1, approved: ["ada"] });
    expect(statSync(state.path).mode & 0o777).toBe(0o600);
  });

  it("moves a file that is not JSON, or not what it should hold, aside once and says so", () => {
    const problems: StateFileProblem[] = [];
    writeFileSync(join(dir, "approvals.json"), "{ not json");
    expect(file("approvals.json", (problem) => problems.push(problem)).read()).toEqual({ version: 1, approved: [] });
    writeFileSync(join(dir, "approvals.json"), JSON.stringify({ version: 1, approved: [42] }));
    const second = file("approvals.json", (problem) => problems.push(problem));
    expect(second.read().approved).toEqual([]);
    expect(problems.map((problem) => problem.reason)).toEqual([
      expect.stringMatching(/^not JSON/),
      expect.stringMatching(/not what it should hold \(\/approved\/0: Expected string\)/),
    ]);
    expect(second.problem?.movedTo).toMatch(/approvals\.json\.unreadable-\d+-[0-9a-f]+$/);
    // Nothing is lost: both originals are kept next to it, and the path is free for the next write.
    const kept = readdirSync(dir).filter((name) => name.includes(".unreadable-"));
    expect(kept).toHaveLength(2);
    expect(kept.map((name) => readFileSync(join(dir, name), "utf8")).sort()).toEqual([
      "{ not json",
      '{"version":1,"approved":[42]}',
    ]);
    expect(existsSync(join(dir, "approvals.json"))).toBe(false);
  });

  it("reports a failed write to the caller with the file, and keeps it as lastError until a write succeeds", async () => {
    const state = new JsonStateFile(join(dir, "missing-dir", "approvals.json"), {
      schema: Approvals,
      empty: () => ({ version: 1 as const, approved: [] }),
    });
    const failure = await state.write({ version: 1, approved: ["x"] }).catch((error: unknown) => error);
    expect(StateError.isInstance(failure)).toBe(true);
    expect(failure).toMatchObject({ code: "STATE_WRITE_FAILED", path: state.path });
    expect(state.lastError?.code).toBe("STATE_WRITE_FAILED");
  });
});

describe("SerialWriter", () => {
  it("writes one snapshot at a time; waiting snapshots collapse into the newest, every caller resolves", async () => {
    const written: number[] = [];
    let release: (() => void) | undefined;
    const writer = new SerialWriter<number>("/state/x.json", async (value) => {
      await new Promise<void>((resolve) => {
        release = resolve;
      });
      written.push(value);
    });
    const first = writer.save(1);
    const later = [writer.save(2), writer.save(3), writer.save(4)];
    release!();
    await first;
    await new Promise((resolve) => setImmediate(resolve));
    release!();
    await Promise.all(later);
    expect(written).toEqual([1, 4]);
    await writer.idle();
  });

  it("a full disk rejects the callers with STATE_DISK_FULL and the next write can succeed", async () => {
    let full = true;
    const disk: number[] = [];
    const writer = new SerialWriter<number>("/state/x.json", async (value) => {
      if (full) throw Object.assign(new Error("ENOSPC: no space left on device, write"), { code: "ENOSPC" });
      disk.push(value);
    });
    const failure = await writer.save(1).catch((error: unknown) => error);
    expect(failure).toMatchObject({ code: "STATE_DISK_FULL", message: expect.stringMatching(/^disk full: .*x\.json/) });
    expect(writer.lastError?.code).toBe("STATE_DISK_FULL");
    full = false;
    await writer.save(2);
    expect(disk).toEqual([2]);
    expect(writer.lastError).toBeUndefined();
  });
});
