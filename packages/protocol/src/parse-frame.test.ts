import { afterEach, describe, expect, it, vi } from "vitest";
import { parseFrame, utf8ByteLength } from "./parse-frame.js";
import { validateParams } from "./validators.js";

const validRequest = { type: "req", id: "1", method: "health", params: {} };

function refused(data: unknown, limits?: Parameters<typeof parseFrame>[1]) {
  const result = parseFrame(data, limits);
  if (result.ok) throw new Error(`expected a refusal, got ${JSON.stringify(result.frame)}`);
  return result.error;
}

describe("parseFrame", () => {
  afterEach(() => vi.restoreAllMocks());

  it("parses request, response and event frames into typed frames", () => {
    const request = parseFrame(JSON.stringify(validRequest));
    expect(request).toEqual({ ok: true, frame: validRequest });
    const response = parseFrame(JSON.stringify({ type: "res", id: "1", ok: true, payload: { a: 1 } }));
    expect(response.ok && response.frame.type).toBe("res");
    const event = parseFrame(JSON.stringify({ type: "event", event: "tick", payload: { ts: 1 }, seq: 3 }));
    expect(event.ok && event.frame.type === "event" && event.frame.seq).toBe(3);
  });

  it("ignores unknown top-level fields of a request (a newer client may send more)", () => {
    const result = parseFrame(JSON.stringify({ ...validRequest, traceparent: "00-abc", extra: true }));
    expect(result.ok).toBe(true);
  });

  it("refuses binary frames", () => {
    expect(refused(Buffer.from(JSON.stringify(validRequest))).code).toBe("BINARY_FRAME");
    expect(refused(new Uint8Array([1, 2, 3])).code).toBe("BINARY_FRAME");
    expect(refused(new ArrayBuffer(4)).code).toBe("BINARY_FRAME");
  });

  it("refuses non-JSON with the parser's reason", () => {
    const error = refused("{not json");
    expect(error.code).toBe("INVALID_JSON");
    expect(error.message).toMatch(/not valid JSON/);
    expect(refused("").code).toBe("INVALID_JSON");
  });

  it("refuses a 30 MB string by size before parsing it", () => {
    const parse = vi.spyOn(JSON, "parse");
    const huge = `{"type":"req","id":"1","method":"health","params":{"x":"${"a".repeat(30 * 1024 * 1024)}"}}`;
    const error = refused(huge);
    expect(error.code).toBe("FRAME_TOO_LARGE");
    expect(error.message).toContain(String(25 * 1024 * 1024));
    expect(parse).not.toHaveBeenCalled();
  });

  it("counts UTF-8 bytes, not characters, against the limit", () => {
    const text = JSON.stringify({ ...validRequest, params: { text: "€".repeat(400) } });
    expect(text.length).toBeLessThan(1024);
    expect(utf8ByteLength(text)).toBeGreaterThan(1024);
    expect(refused(text, { maxBytes: 1024 }).code).toBe("FRAME_TOO_LARGE");
    expect(utf8ByteLength("a€😀")).toBe(Buffer.byteLength("a€😀"));
  });

  it("refuses deep nesting without recursing", () => {
    const deep = `{"type":"req","id":"1","method":"x","params":${"[".repeat(100_000)}${"]".repeat(100_000)}}`;
    expect(refused(deep).code).toBe("TOO_DEEP");
    // brackets inside strings do not count
    const inString = JSON.stringify({ ...validRequest, params: { text: "[".repeat(1000) } });
    expect(parseFrame(inString).ok).toBe(true);
  });

  it("refuses prototype-pollution keys and pollutes nothing", () => {
    const error = refused('{"type":"req","id":"1","method":"x","params":{"a":{"__proto__":{"polluted":true}}}}');
    expect(error).toMatchObject({ code: "FORBIDDEN_KEY", path: "/params/a/__proto__" });
    expect(refused('{"type":"req","id":"1","method":"x","params":{"constructor":{"prototype":{"p":1}}}}').code).toBe(
      "FORBIDDEN_KEY",
    );
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    // the words inside a string value are fine
    expect(parseFrame(JSON.stringify({ ...validRequest, params: { text: "__proto__ prototype" } })).ok).toBe(true);
  });

  it("names the field and the reason for wrong types and missing fields", () => {
    expect(refused(JSON.stringify({ type: "req", id: 5, method: "health" }))).toMatchObject({
      code: "INVALID_FRAME",
      path: "/id",
    });
    const missing = refused(JSON.stringify({ type: "req", id: "1" }));
    expect(missing.path).toBe("/method");
    expect(missing.message).toMatch(/method/);
    expect(refused(JSON.stringify({ type: "res", id: "1" })).path).toBe("/ok");
  });

  it("refuses unknown frame types and non-objects", () => {
    expect(refused(JSON.stringify({ type: "hello" }))).toMatchObject({ code: "INVALID_FRAME", path: "/type" });
    expect(refused(JSON.stringify({ id: "1" })).path).toBe("/type");
    expect(refused("[1,2,3]").code).toBe("INVALID_FRAME");
    expect(refused("null").code).toBe("INVALID_FRAME");
    expect(refused('"req"').code).toBe("INVALID_FRAME");
  });

  it("treats huge numbers as the wrong type instead of trusting them", () => {
    expect(refused('{"type":"event","event":"tick","seq":1e400}').path).toBe("/seq");
    const request = parseFrame('{"type":"req","id":"1","method":"logs.tail","params":{"cursor":1e400}}');
    expect(request.ok).toBe(true);
    const params = request.ok && request.frame.type === "req" ? request.frame.params : undefined;
    const validation = validateParams("logs.tail", params);
    expect(validation.ok).toBe(false);
    expect(!validation.ok && validation.issues[0]?.path).toBe("/cursor");
  });

  it("never throws on mutated frames (bounded fuzz loop)", () => {
    const seeds = [
      JSON.stringify(validRequest),
      JSON.stringify({ type: "event", event: "tick", payload: { ts: 1 }, seq: 1 }),
      JSON.stringify({ type: "res", id: "9", ok: false, error: { code: "FORBIDDEN", message: "no" } }),
    ];
    const alphabet = '{}[]":,\\0123456789abcdefnulltrue_proto- \u0000\ud800€';
    let random = 42;
    const next = () => {
      random = (random * 1_103_515_245 + 12_345) % 2 ** 31;
      return random;
    };
    for (let round = 0; round < 5000; round++) {
      const seed = seeds[round % seeds.length]!;
      const chars = [...seed];
      const edits = 1 + (next() % 4);
      for (let edit = 0; edit < edits; edit++) {
        const position = next() % (chars.length + 1);
        const action = next() % 3;
        const char = alphabet[next() % alphabet.length]!;
        if (action === 0) chars.splice(position, 0, char);
        else if (action === 1) chars.splice(position, 1);
        else chars[position] = char;
      }
      const result = parseFrame(chars.join(""));
      expect(typeof result.ok).toBe("boolean");
      if (!result.ok) expect(result.error.message.length).toBeGreaterThan(0);
    }
  });
});
