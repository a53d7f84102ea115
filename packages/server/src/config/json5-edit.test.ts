import JSON5 from "json5";
import { describe, expect, it } from "vitest";
import { editJson5, Json5EditError, patchJson5, readJson5Path } from "./json5-edit.js";
import { starterConfig } from "./load-config.js";

const starter = starterConfig("t".repeat(43));

/** Every comment line of a text, in order. */
const comments = (text: string) => text.split("\n").filter((line) => line.trim().startsWith("//"));

describe("editJson5", () => {
  it("changes one value of the commented starter and keeps every other line", () => {
    const edited = editJson5(starter, ["logging", "level"], "debug");
    expect(JSON5.parse(edited).logging.level).toBe("debug");
    const before = starter.split("\n");
    const after = edited.split("\n");
    expect(after).toHaveLength(before.length);
    expect(after.filter((line, index) => line !== before[index])).toEqual(['    level: "debug",']);
  });

  it("inserts a missing section, with its parents, in the file's indentation and trailing-comma style", () => {
    const edited = editJson5(starter, ["heartbeat", "every"], "1h");
    expect(JSON5.parse(edited).heartbeat).toEqual({ every: "1h" });
    expect(comments(edited)).toEqual(comments(starter));
    expect(edited).toMatch(/\n {2}heartbeat: \{\n {4}every: "1h",?\n {2}\},\n/);
    // Deeper: an existing object gains a member next to its siblings.
    const deeper = editJson5(starter, ["gateway", "auth", "password"], "p".repeat(20));
    expect(deeper).toMatch(/token: "t+",\n {6}password: "p+",\n/);
  });

  it("removes a member with its line and leaves valid JSON5 with the comments", () => {
    const edited = editJson5(starter, ["gateway", "reload"], undefined);
    expect(JSON5.parse(edited).gateway.reload).toBeUndefined();
    expect(edited.split("\n")).toHaveLength(starter.split("\n").length - 1);
    expect(comments(edited)).toEqual(comments(starter));
    // Removing what is not there changes nothing.
    expect(editJson5(starter, ["nothing", "here"], undefined)).toBe(starter);
  });

  it("handles files without trailing commas, one-line objects, quoted keys and single quotes", () => {
    const compact = "{ a: 1, 'b-c': { d: 'x' } }";
    expect(JSON5.parse(editJson5(compact, ["b-c", "e"], 2))).toEqual({ a: 1, "b-c": { d: "x", e: 2 } });
    expect(editJson5(compact, ["b-c", "d"], "y")).toBe("{ a: 1, 'b-c': { d: 'y' } }");
    expect(JSON5.parse(editJson5(compact, ["b-c"], undefined))).toEqual({ a: 1 });
    const plain = '{\n  "a": 1,\n  "b": 2\n}\n';
    const removed = editJson5(plain, ["b"], undefined);
    expect(removed).toBe('{\n  "a": 1\n}\n');
    expect(editJson5(removed, ["c"], [1, 2])).toBe('{\n  "a": 1,\n  c: [\n    1,\n    2,\n  ]\n}\n');
    expect(JSON5.parse(editJson5("", ["x", "y"], true))).toEqual({ x: { y: true } });
    expect(JSON5.parse(editJson5("{\n}\n", ["x"], 1))).toEqual({ x: 1 });
  });

  it("replaces a non-object on the path and refuses text that is not JSON5", () => {
    expect(JSON5.parse(editJson5("{ a: 1 }", ["a", "b"], 2))).toEqual({ a: { b: 2 } });
    expect(() => editJson5("{ a: ", ["a"], 1)).toThrow(Json5EditError);
    expect(() => editJson5("{ a: 1 } x", ["a"], 1)).toThrow(/not valid JSON5/);
  });

  it("readJson5Path reads one value", () => {
    expect(readJson5Path(starter, ["gateway", "port"])).toBe(18789);
    expect(readJson5Path(starter, ["gateway", "nope"])).toBeUndefined();
  });
});

describe("patchJson5", () => {
  it("applies a merge patch to the starter without losing its comments (the 39 lines stay 39 lines)", () => {
    const patched = patchJson5(starter, { logging: { level: "debug" }, gateway: { reload: null } });
    expect(JSON5.parse(patched)).toMatchObject({ logging: { level: "debug" } });
    expect(JSON5.parse(patched).gateway.reload).toBeUndefined();
    expect(comments(patched)).toEqual(comments(starter));
    expect(patched.split("\n").length).toBe(starter.split("\n").length - 1);
  });

  it("gives the same result as a plain merge patch", () => {
    const patch = { models: { providers: { local: { baseUrl: "http://127.0.0.1:1/v1", models: [{ id: "m" }] } } } };
    const patched = JSON5.parse(patchJson5(starter, patch));
    expect(patched.models).toEqual(patch.models);
    expect(patched.gateway.port).toBe(18789);
    expect(() => patchJson5(starter, [1])).toThrow(/must be an object/);
  });
});
