import { describe, expect, it } from "vitest";
import { withReferenceLogFields } from "./log-line-shape.js";

describe("withReferenceLogFields", () => {
  it("adds the reference's message and _meta to a pino record and keeps every field of ours", () => {
    const line = JSON.stringify({ level: 40, time: Date.UTC(2026, 0, 2, 3, 4, 5), pid: 7, url: "ws://x", msg: "hi" });
    const shaped = JSON.parse(withReferenceLogFields(line));
    expect(shaped).toMatchObject({ level: 40, pid: 7, url: "ws://x", msg: "hi", message: "hi" });
    expect(shaped._meta).toEqual({
      logLevelName: "WARN",
      date: "2026-01-02T03:04:05.000Z",
      name: JSON.stringify({ subsystem: "gateway" }),
    });
  });

  it("leaves a line that is not a JSON record as it is", () => {
    expect(withReferenceLogFields("plain text")).toBe("plain text");
    expect(withReferenceLogFields("[1,2]")).toBe("[1,2]");
    expect(withReferenceLogFields('{"no":"level"}')).toBe('{"no":"level"}');
  });
});
