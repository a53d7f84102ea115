import { open, stat } from "node:fs/promises";
import type { LogsTailParams, LogsTailResult } from "@gateway/protocol";

const DEFAULT_LIMIT = 200;
const DEFAULT_MAX_BYTES = 250_000;

/**
 * Read the log file from a byte cursor. Without a cursor, returns the tail. Only whole lines are returned and the
 * returned cursor points just after the last one, so polling with it never loses or repeats a line. A cursor past
 * the end (the file was rotated or truncated) restarts from the beginning with `reset: true`.
 */
export async function tailLogFile(file: string, params: LogsTailParams): Promise<LogsTailResult> {
  const limit = params.limit ?? DEFAULT_LIMIT;
  const maxBytes = params.maxBytes ?? DEFAULT_MAX_BYTES;
  let size: number;
  try {
    size = (await stat(file)).size;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return { file, cursor: 0, size: 0, lines: [] };
    throw error;
  }
  let start: number;
  let reset = false;
  const fromTail = params.cursor === undefined;
  if (fromTail) start = Math.max(0, size - maxBytes);
  else if (params.cursor! > size) {
    start = 0;
    reset = true;
  } else start = params.cursor!;

  const length = Math.min(maxBytes, size - start);
  const buffer = Buffer.alloc(length);
  if (length > 0) {
    const handle = await open(file, "r");
    try {
      await handle.read(buffer, 0, length, start);
    } finally {
      await handle.close();
    }
  }
  let text = buffer.toString("utf8");
  let consumedStart = start;
  let skippedBytes = 0;
  if (fromTail && start > 0) {
    // Starting mid-file: drop the partial first line.
    const newline = text.indexOf("\n");
    const dropped = newline < 0 ? text : text.slice(0, newline + 1);
    skippedBytes = Buffer.byteLength(dropped);
    text = newline < 0 ? "" : text.slice(newline + 1);
    consumedStart += skippedBytes;
  }
  const lastNewline = text.lastIndexOf("\n");
  const complete = lastNewline < 0 ? "" : text.slice(0, lastNewline + 1);
  let lines = complete === "" ? [] : complete.slice(0, -1).split("\n");
  let consumed = Buffer.byteLength(complete);
  let truncated = consumedStart + consumed < size;
  if (fromTail && lines.length > limit) {
    lines = lines.slice(-limit);
  } else if (lines.length > limit) {
    lines = lines.slice(0, limit);
    consumed = lines.reduce((bytes, line) => bytes + Buffer.byteLength(line) + 1, 0);
    truncated = true;
  }
  const result: LogsTailResult = { file, cursor: consumedStart + consumed, size, lines };
  if (truncated) result.truncated = true;
  if (reset) result.reset = true;
  if (skippedBytes > 0) result.skippedBytes = skippedBytes;
  return result;
}
