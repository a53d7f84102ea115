import { EventFrame, type GatewayFrame, RequestFrame, ResponseFrame } from "./frames.js";
import { compiledChecker } from "./validators.js";

/** Why a frame was refused. */
export type FrameErrorCode =
  | "BINARY_FRAME"
  | "FRAME_TOO_LARGE"
  | "INVALID_JSON"
  | "TOO_DEEP"
  | "FORBIDDEN_KEY"
  | "INVALID_FRAME";

/** A precise reason a frame was refused: what failed, where (a JSON pointer), and why. */
export interface FrameError {
  readonly code: FrameErrorCode;
  readonly message: string;
  readonly path?: string;
}

/** A parsed frame, or why it was refused. `parseFrame` never throws. */
export type ParseFrameResult = { ok: true; frame: GatewayFrame } | { ok: false; error: FrameError };

/** Limits applied before and while parsing. */
export interface FrameLimits {
  /** Largest accepted frame in UTF-8 bytes, checked before parsing. @default 26214400 (25 MiB) */
  maxBytes?: number;
  /** Deepest accepted nesting of arrays and objects. @default 64 */
  maxDepth?: number;
}

/** Default largest frame: 25 MiB. */
export const DEFAULT_MAX_FRAME_BYTES = 25 * 1024 * 1024;
/** Default deepest nesting. */
export const DEFAULT_MAX_FRAME_DEPTH = 64;

const frameSchemas = { req: RequestFrame, res: ResponseFrame, event: EventFrame } as const;

/**
 * Parse one WebSocket text frame into a typed frame. Hostile input (binary data, oversized text, deep nesting,
 * `__proto__` keys, huge numbers, wrong types) yields a precise error instead of an exception.
 */
export function parseFrame(data: unknown, limits: FrameLimits = {}): ParseFrameResult {
  if (typeof data !== "string") {
    return fail("BINARY_FRAME", "Binary frames are not accepted: send one JSON object per text frame.");
  }
  const maxBytes = limits.maxBytes ?? DEFAULT_MAX_FRAME_BYTES;
  const maxDepth = limits.maxDepth ?? DEFAULT_MAX_FRAME_DEPTH;
  // UTF-8 needs at least one byte per UTF-16 unit and at most three, so the exact count is needed only in between.
  if (data.length > maxBytes || (data.length * 3 > maxBytes && utf8ByteLength(data) > maxBytes)) {
    return fail("FRAME_TOO_LARGE", `Frame exceeds the limit of ${maxBytes} bytes.`);
  }
  if (data.length > maxDepth * 2) {
    const depth = nestingDepth(data, maxDepth);
    if (depth > maxDepth) return fail("TOO_DEEP", `Frame nests deeper than ${maxDepth} levels.`);
  }
  let value: unknown;
  try {
    value = JSON.parse(data);
  } catch (error) {
    return fail("INVALID_JSON", `Frame is not valid JSON (${(error as Error).message}).`);
  }
  if (data.includes("__proto__") || data.includes("prototype")) {
    const path = findForbiddenKey(value);
    if (path !== undefined) {
      return fail("FORBIDDEN_KEY", `Frame contains a forbidden key at ${path}.`, path);
    }
  }
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    return fail("INVALID_FRAME", "Frame must be a JSON object with a `type` of req, res or event.", "");
  }
  const type = (value as { type?: unknown }).type;
  if (type !== "req" && type !== "res" && type !== "event") {
    return fail(
      "INVALID_FRAME",
      `Unknown frame type ${JSON.stringify(type) ?? "undefined"}: expected "req", "res" or "event".`,
      "/type",
    );
  }
  const checker = compiledChecker(frameSchemas[type]);
  if (!checker.Check(value)) {
    const first = checker.Errors(value).First();
    const path = first?.path ?? "";
    return fail(
      "INVALID_FRAME",
      `Invalid ${type} frame at ${path || "/"}: ${first?.message ?? "does not match"}.`,
      path,
    );
  }
  return { ok: true, frame: value as GatewayFrame };
}

function fail(code: FrameErrorCode, message: string, path?: string): ParseFrameResult {
  return { ok: false, error: path === undefined ? { code, message } : { code, message, path } };
}

/** UTF-8 length of a string without allocating. */
export function utf8ByteLength(text: string): number {
  let bytes = 0;
  for (let index = 0; index < text.length; index++) {
    const code = text.charCodeAt(index);
    if (code < 0x80) bytes += 1;
    else if (code < 0x800) bytes += 2;
    else if (code >= 0xd800 && code <= 0xdbff && index + 1 < text.length) {
      const next = text.charCodeAt(index + 1);
      if (next >= 0xdc00 && next <= 0xdfff) {
        bytes += 4;
        index++;
      } else bytes += 3;
    } else bytes += 3;
  }
  return bytes;
}

/** Deepest nesting of `[`/`{` outside strings, stopping as soon as it passes `limit`. */
function nestingDepth(text: string, limit: number): number {
  let depth = 0;
  let deepest = 0;
  let inString = false;
  for (let index = 0; index < text.length; index++) {
    const code = text.charCodeAt(index);
    if (inString) {
      if (code === 0x5c /* \ */) index++;
      else if (code === 0x22 /* " */) inString = false;
    } else if (code === 0x22) inString = true;
    else if (code === 0x7b /* { */ || code === 0x5b /* [ */) {
      depth++;
      if (depth > deepest) {
        deepest = depth;
        if (deepest > limit) return deepest;
      }
    } else if (code === 0x7d /* } */ || code === 0x5d /* ] */) depth--;
  }
  return deepest;
}

/** JSON pointer of the first `__proto__` key, or of `constructor.prototype`, if any. */
function findForbiddenKey(root: unknown): string | undefined {
  const stack: Array<{ value: unknown; path: string }> = [{ value: root, path: "" }];
  while (stack.length > 0) {
    const { value, path } = stack.pop()!;
    if (typeof value !== "object" || value === null) continue;
    for (const key of Object.keys(value)) {
      const childPath = `${path}/${key}`;
      const child = (value as Record<string, unknown>)[key];
      if (key === "__proto__") return childPath;
      if (key === "constructor" && typeof child === "object" && child !== null && Object.hasOwn(child, "prototype")) {
        return `${childPath}/prototype`;
      }
      stack.push({ value: child, path: childPath });
    }
  }
  return undefined;
}
