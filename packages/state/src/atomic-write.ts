import { randomBytes } from "node:crypto";
import { closeSync, fsyncSync, openSync, readdirSync, renameSync, rmSync, statSync, writeSync } from "node:fs";
import { open, readdir, rename, rm, stat } from "node:fs/promises";
import { basename, dirname, join } from "node:path";
import { processAlive } from "./process-alive.js";

/** Options of an atomic write. */
export interface AtomicWriteOptions {
  /** File mode of the new file. @default the existing file's mode, else 0o600 */
  mode?: number;
}

const TEMP_MARKER = ".tmp-";

function tempPathFor(path: string): string {
  return join(dirname(path), `.${basename(path)}${TEMP_MARKER}${process.pid}-${randomBytes(4).toString("hex")}`);
}

async function modeFor(path: string, options: AtomicWriteOptions): Promise<number> {
  if (options.mode !== undefined) return options.mode;
  try {
    return (await stat(path)).mode & 0o777;
  } catch {
    return 0o600;
  }
}

/**
 * Replace `path` with `data` so that a crash at any instant leaves either the old or the new content, never a torn
 * file: write a temp file in the same directory, fsync it, rename it over the target, then fsync the directory so the
 * rename itself is durable.
 */
export async function writeFileAtomic(
  path: string,
  data: string | Uint8Array,
  options: AtomicWriteOptions = {},
): Promise<void> {
  const mode = await modeFor(path, options);
  const temp = tempPathFor(path);
  const handle = await open(temp, "wx", mode);
  try {
    await handle.writeFile(data);
    await handle.sync();
  } catch (error) {
    await handle.close();
    await rm(temp, { force: true });
    throw error;
  }
  await handle.close();
  try {
    await rename(temp, path);
  } catch (error) {
    await rm(temp, { force: true });
    throw error;
  }
  await syncDirectory(dirname(path));
}

/** The synchronous twin of `writeFileAtomic`, for start-up paths. */
export function writeFileAtomicSync(path: string, data: string | Uint8Array, options: AtomicWriteOptions = {}): void {
  let mode = options.mode;
  if (mode === undefined) {
    try {
      mode = statSync(path).mode & 0o777;
    } catch {
      mode = 0o600;
    }
  }
  const temp = tempPathFor(path);
  const descriptor = openSync(temp, "wx", mode);
  try {
    const buffer = typeof data === "string" ? Buffer.from(data) : data;
    let written = 0;
    while (written < buffer.length) written += writeSync(descriptor, buffer, written);
    fsyncSync(descriptor);
  } catch (error) {
    closeSync(descriptor);
    rmSync(temp, { force: true });
    throw error;
  }
  closeSync(descriptor);
  try {
    renameSync(temp, path);
  } catch (error) {
    rmSync(temp, { force: true });
    throw error;
  }
  try {
    const directory = openSync(dirname(path), "r");
    try {
      fsyncSync(directory);
    } finally {
      closeSync(directory);
    }
  } catch {
    // Some platforms cannot fsync a directory; the rename is still atomic.
  }
}

async function syncDirectory(directory: string): Promise<void> {
  try {
    const handle = await open(directory, "r");
    try {
      await handle.sync();
    } finally {
      await handle.close();
    }
  } catch {
    // Some platforms cannot fsync a directory; the rename is still atomic.
  }
}

/**
 * Whether `name` is a temp file of `path` whose writer is gone (`.<name>.tmp-<pid>-<random>`, that pid not running):
 * a live writer's temp file is about to be renamed and is never touched.
 */
function isStaleTempFile(path: string, name: string): boolean {
  const prefix = `.${basename(path)}${TEMP_MARKER}`;
  if (!name.startsWith(prefix)) return false;
  const pid = Number(name.slice(prefix.length).split("-")[0]);
  return !Number.isInteger(pid) || pid <= 0 || !processAlive(pid);
}

/**
 * Remove temp files a crashed writer left next to `path`. Safe at any time (the temp files of running writers stay);
 * returns how many were removed.
 */
export async function removeStaleTempFiles(path: string): Promise<number> {
  let removed = 0;
  for (const name of await readdir(dirname(path)).catch(() => [] as string[])) {
    if (isStaleTempFile(path, name)) {
      await rm(join(dirname(path), name), { force: true });
      removed++;
    }
  }
  return removed;
}

/** The synchronous twin of `removeStaleTempFiles`. */
export function removeStaleTempFilesSync(path: string): number {
  let names: string[] = [];
  try {
    names = readdirSync(dirname(path));
  } catch {
    return 0;
  }
  let removed = 0;
  for (const name of names) {
    if (isStaleTempFile(path, name)) {
      rmSync(join(dirname(path), name), { force: true });
      removed++;
    }
  }
  return removed;
}
