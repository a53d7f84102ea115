import { appendFileSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Type } from "@sinclair/typebox";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { JsonLinesAppender, JsonStateFile, parseJsonLines, StateError } from "../src/index.js";

let dir = "";
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), "gateway-json-lines-"));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

describe("JsonLinesAppender", () => {
  it("appends one line per record, creating the file 0600", async () => {
    const path = join(dir, "log.jsonl");
    const appender = new JsonLinesAppender();
    await appender.append(path, { n: 1 });
    await appender.append(path, { n: 2 });
    expect(readFileSync(path, "utf8")).toBe('{"n":1}\n{"n":2}\n');
  });

  it("starts on a new line after a torn last line, so the torn record is the only one lost", async () => {
    const path = join(dir, "transcript.jsonl");
    // What a crash (or a full disk) mid-append leaves: a whole line, then half of one.
    writeFileSync(path, '{"n":1}\n{"n":2,"te');
    const appender = new JsonLinesAppender();
    await appender.append(path, { n: 3 });
    await appender.append(path, { n: 4 });
    expect(parseJsonLines(readFileSync(path, "utf8"))).toEqual([{ n: 1 }, { n: 3 }, { n: 4 }]);
  });

  it("checks again after a failed append (someone else may have left the file torn)", async () => {
    const path = join(dir, "runs.jsonl");
    const appender = new JsonLinesAppender();
    await appender.append(path, { n: 1 });
    appendFileSync(path, '{"half');
    appender.forget(path);
    await appender.append(path, { n: 2 });
    expect(parseJsonLines(readFileSync(path, "utf8"))).toEqual([{ n: 1 }, { n: 2 }]);
  });

  it.runIf(existsSync("/dev/full"))("a full disk is a STATE_DISK_FULL StateError that says so", async () => {
    const appender = new JsonLinesAppender();
    const failure = await appender.append("/dev/full", { n: 1 }).catch((error: unknown) => error);
    expect(StateError.isInstance(failure)).toBe(true);
    expect((failure as StateError).code).toBe("STATE_DISK_FULL");
    expect((failure as StateError).message).toMatch(/^disk full: could not write \/dev\/full; free space/);
  });

  it("another failure is STATE_WRITE_FAILED with the file named", async () => {
    const failure = await new JsonLinesAppender()
      .append(join(dir, "missing-dir", "x.jsonl"), {})
      .catch((error: unknown) => error);
    expect((failure as StateError).code).toBe("STATE_WRITE_FAILED");
    expect((failure as StateError).message).toMatch(/could not write .*missing-dir\/x\.jsonl: ENOENT/);
  });
});

describe("stale temp files", () => {
  it("are removed when their writer is gone, and kept while it runs", () => {
    const path = join(dir, "state.json");
    writeFileSync(path, '{"v":1}\n');
    const dead = join(dir, ".state.json.tmp-999999999-abcd");
    const live = join(dir, `.state.json.tmp-${process.pid}-abcd`);
    writeFileSync(dead, "{");
    writeFileSync(live, "{");
    new JsonStateFile(path, { schema: Type.Object({ v: Type.Number() }), empty: () => ({ v: 0 }) }).read();
    expect(existsSync(dead)).toBe(false);
    expect(existsSync(live)).toBe(true);
  });
});
