import { appendFile, open } from "node:fs/promises";
import { StateError } from "./state-error.js";

/**
 * The records of a JSONL file (one JSON value per line, appended one line at a time). A line that does not parse —
 * the torn last line of a crash or a full disk mid-append — is skipped; every other line is intact by construction.
 */
export function parseJsonLines<T>(text: string): T[] {
  const records: T[] = [];
  for (const line of text.split("\n")) {
    if (!line) continue;
    try {
      records.push(JSON.parse(line) as T);
    } catch {
      // a torn line
    }
  }
  return records;
}

/** Options of a JsonLinesAppender. */
export interface JsonLinesAppenderOptions {
  /** Mode of files it creates. @default 0o600 */
  mode?: number;
}

/** How many file names the appender remembers as ending cleanly; past it, it forgets and checks again (cheap). */
const REMEMBERED_FILES = 10_000;

/**
 * Appends JSON records to JSONL files, one line each. Before its first append to a file, and again after any append
 * that failed, it checks that the file ends with a newline and starts the record on a new line when it does not: a
 * torn last line (a crash, a full disk) then stays one unreadable line that reading skips, instead of swallowing the
 * next record. A failed append throws a StateError (`STATE_DISK_FULL` when the disk is full).
 */
export class JsonLinesAppender {
  readonly #endsCleanly = new Set<string>();
  readonly #mode: number;

  constructor(options: JsonLinesAppenderOptions = {}) {
    this.#mode = options.mode ?? 0o600;
  }

  /** Append `record` as one line to `path` (created when missing). */
  async append(path: string, record: unknown): Promise<void> {
    const line = `${JSON.stringify(record)}\n`;
    try {
      const repair = !this.#endsCleanly.has(path) && (await endsTorn(path));
      await appendFile(path, repair ? `\n${line}` : line, { mode: this.#mode });
      if (this.#endsCleanly.size >= REMEMBERED_FILES) this.#endsCleanly.clear();
      this.#endsCleanly.add(path);
    } catch (error) {
      // Part of the line may be on disk: check again before the next append.
      this.#endsCleanly.delete(path);
      throw StateError.fromWrite(path, error);
    }
  }

  /** Forget what is known about `path` (it was replaced or removed by someone else). */
  forget(path: string): void {
    this.#endsCleanly.delete(path);
  }
}

/** Whether the file exists, is not empty, and its last byte is not a newline. */
async function endsTorn(path: string): Promise<boolean> {
  let handle: Awaited<ReturnType<typeof open>>;
  try {
    handle = await open(path, "r");
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return false;
    throw error;
  }
  try {
    const { size } = await handle.stat();
    if (size === 0) return false;
    const last = Buffer.alloc(1);
    await handle.read(last, 0, 1, size - 1);
    return last[0] !== 0x0a;
  } finally {
    await handle.close();
  }
}
