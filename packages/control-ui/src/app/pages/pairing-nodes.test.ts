import { describe, expect, it } from "vitest";
import { parseParams } from "./pairing-nodes.js";

describe("parseParams (the invoke form's JSON params)", () => {
  it("an empty field is no params", () => {
    expect(parseParams("  ")).toEqual({ ok: true, value: undefined });
  });
  it("JSON is taken as it is", () => {
    expect(parseParams('{ "bins": ["sh"] }')).toEqual({ ok: true, value: { bins: ["sh"] } });
  });
  it("anything else is refused with a sentence", () => {
    const parsed = parseParams("{ bins: ");
    expect(parsed.ok).toBe(false);
    expect(!parsed.ok && parsed.problem).toMatch(/^The params are not JSON: /);
  });
});
