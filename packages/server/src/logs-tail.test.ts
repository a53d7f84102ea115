import { appendFileSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { tailLogFile } from "./logs-tail.js";

let dir = "";
let file = "";
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), "gateway-logs-"));
  file = join(dir, "gateway.log");
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

describe("tailLogFile", () => {
  it("returns the tail without a cursor, then only new whole lines from the cursor", async () => {
    writeFileSync(file, "one\ntwo\nthree\n");
    const first = await tailLogFile(file, {});
    expect(first.lines).toEqual(["one", "two", "three"]);
    expect(first.cursor).toBe(14);
    appendFileSync(file, "four\nfiv");
    const second = await tailLogFile(file, { cursor: first.cursor });
    expect(second.lines).toEqual(["four"]);
    appendFileSync(file, "e\n");
    const third = await tailLogFile(file, { cursor: second.cursor });
    expect(third.lines).toEqual(["five"]);
    expect((await tailLogFile(file, { cursor: third.cursor })).lines).toEqual([]);
  });

  it("limits lines and bytes and says it truncated, without losing lines across calls", async () => {
    writeFileSync(file, Array.from({ length: 10 }, (_, index) => `line-${index}`).join("\n") + "\n");
    const page = await tailLogFile(file, { cursor: 0, limit: 4 });
    expect(page.lines).toEqual(["line-0", "line-1", "line-2", "line-3"]);
    expect(page.truncated).toBe(true);
    const next = await tailLogFile(file, { cursor: page.cursor, limit: 100 });
    expect(next.lines[0]).toBe("line-4");
    expect(next.lines.at(-1)).toBe("line-9");
    const tail = await tailLogFile(file, { limit: 2 });
    expect(tail.lines).toEqual(["line-8", "line-9"]);
    const bytes = await tailLogFile(file, { maxBytes: 10 });
    expect(bytes.lines).toEqual(["line-9"]);
    expect(bytes.skippedBytes).toBeGreaterThan(0);
  });

  it("restarts from the beginning after rotation and copes with a missing file", async () => {
    expect(await tailLogFile(file, {})).toEqual({ file, cursor: 0, size: 0, lines: [] });
    writeFileSync(file, "new\n");
    const result = await tailLogFile(file, { cursor: 5000 });
    expect(result).toMatchObject({ lines: ["new"], reset: true, cursor: 4 });
  });
});
