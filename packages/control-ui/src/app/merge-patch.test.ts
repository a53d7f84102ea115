import { describe, expect, it } from "vitest";
import { mergePatch } from "./merge-patch.js";

describe("mergePatch", () => {
  it("holds only what changed: untouched secrets stay out of it", () => {
    const before = {
      gateway: { auth: { mode: "token", token: "[redacted]" }, port: 18789 },
      logging: { level: "info" },
    };
    const after = {
      gateway: { auth: { mode: "token", token: "[redacted]" }, port: 18789 },
      logging: { level: "debug" },
    };
    expect(mergePatch(before, after)).toEqual({ logging: { level: "debug" } });
  });

  it("deletes removed keys with null, replaces arrays whole, adds new sections", () => {
    expect(
      mergePatch(
        { a: 1, list: [1, 2], nested: { keep: true, drop: "x" } },
        { a: 1, list: [2], nested: { keep: true }, added: { b: 2 } },
      ),
    ).toEqual({ list: [2], nested: { drop: null }, added: { b: 2 } });
  });

  it("is undefined when nothing changed", () => {
    expect(mergePatch({ a: { b: [1] } }, { a: { b: [1] } })).toBeUndefined();
  });
});
