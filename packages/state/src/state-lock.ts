import { randomBytes, randomUUID } from "node:crypto";
import { closeSync, linkSync, openSync, readFileSync, renameSync, rmSync, writeSync } from "node:fs";
import { join } from "node:path";
import { writeFileAtomicSync } from "./atomic-write.js";
import { processAlive } from "./process-alive.js";
import { StateError } from "./state-error.js";

/** What the lock file (`gateway.run.json`) says about the process that holds the state directory. */
export interface StateLockInfo {
  pid: number;
  startedAt: number;
  /** Tells this process's locks from a stale one left by an earlier process with the same pid (pid 1 in a container). */
  processToken?: string;
  version?: string;
  /** Where it listens, once it does. */
  url?: string;
}

/** The state directory's lock, held by this process until `release()`. */
export interface StateLock {
  readonly path: string;
  /** Add what became known after start (the URL it listens on). Only the holder writes the file. */
  update(info: Partial<Omit<StateLockInfo, "pid" | "processToken">>): void;
  /** Remove the file, if it is still ours. Idempotent. */
  release(): void;
}

/** The name of the lock file in a state directory; the CLI reads it to find a running gateway. */
export const STATE_LOCK_FILE = "gateway.run.json";

/** Unique to this process (never changes): a lock with our pid but another token is from an earlier process. */
const PROCESS_TOKEN = randomUUID();

/** When a process started (Linux: from /proc), or undefined where that cannot be read. */
function processStartedAt(pid: number): number | undefined {
  try {
    const boot = Number(/^btime (\d+)$/m.exec(readFileSync("/proc/stat", "utf8"))?.[1]);
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    const ticks = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[19]);
    return Number.isFinite(boot) && Number.isFinite(ticks) ? boot * 1000 + (ticks / 100) * 1000 : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Whether the process a lock names still holds it: alive, not this process under another token, and (where the
 * start time is known) not a later process that reused the pid.
 */
function holderAlive(held: StateLockInfo): boolean {
  if (held.pid === process.pid) return held.processToken === PROCESS_TOKEN;
  if (!processAlive(held.pid)) return false;
  const started = processStartedAt(held.pid);
  return started === undefined || started <= held.startedAt + 5_000;
}

/** The lock file's content, or undefined when there is none or it is not one. */
export function readStateLock(stateDir: string): StateLockInfo | undefined {
  return parseLock(join(stateDir, STATE_LOCK_FILE));
}

function parseLock(path: string): StateLockInfo | undefined {
  try {
    const value = JSON.parse(readFileSync(path, "utf8")) as Partial<StateLockInfo>;
    return typeof value.pid === "number" && typeof value.startedAt === "number" ? (value as StateLockInfo) : undefined;
  } catch {
    return undefined;
  }
}

function createExclusive(path: string, info: StateLockInfo): boolean {
  let descriptor: number;
  try {
    descriptor = openSync(path, "wx", 0o600);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "EEXIST") return false;
    throw StateError.fromWrite(path, error);
  }
  try {
    writeSync(descriptor, `${JSON.stringify(info)}\n`);
  } finally {
    closeSync(descriptor);
  }
  return true;
}

/**
 * Take the state directory for this process: one gateway per state directory. The lock file is created exclusively;
 * when it exists and its process is alive, a `STATE_LOCKED` error names the pid and URL and how to run a second
 * instance. A lock left by a killed process is taken over safely: it is moved away under a unique name first (only
 * one contender can move a given file), checked again, and a live lock moved by mistake is put back.
 */
export function acquireStateLock(
  stateDir: string,
  info: Omit<StateLockInfo, "pid" | "startedAt" | "processToken">,
): StateLock {
  const path = join(stateDir, STATE_LOCK_FILE);
  const mine: StateLockInfo = { pid: process.pid, startedAt: Date.now(), processToken: PROCESS_TOKEN, ...info };
  for (let attempt = 0; attempt < 5; attempt++) {
    if (createExclusive(path, mine)) return holdLock(path, mine);
    const held = parseLock(path);
    if (held && holderAlive(held)) throw lockedError(stateDir, path, held);
    // Stale (its process is gone) or not a lock file at all: move it aside under a name only we use.
    const aside = `${path}.stale-${randomBytes(4).toString("hex")}`;
    try {
      renameSync(path, aside);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === "ENOENT") continue; // another contender moved it: try again
      throw StateError.fromWrite(path, error);
    }
    const moved = parseLock(aside);
    if (moved && holderAlive(moved)) {
      // A contender took the stale lock over between our read and our move: give its lock back.
      try {
        linkSync(aside, path);
      } catch {
        // a third process holds the path now; it is that one's
      }
      rmSync(aside, { force: true });
      throw lockedError(stateDir, path, moved);
    }
    rmSync(aside, { force: true });
  }
  throw new StateError("STATE_LOCKED", `could not take ${path}: other processes keep replacing it`, path);
}

function lockedError(stateDir: string, path: string, held: StateLockInfo): StateError {
  const where = held.url ? ` listening on ${held.url}` : " (still starting)";
  return new StateError(
    "STATE_LOCKED",
    `another gateway (pid ${held.pid})${where} already uses the state directory ${stateDir}. Stop it first, or run a second instance with its own --state-dir <dir> (and --port).`,
    path,
  );
}

function holdLock(path: string, mine: StateLockInfo): StateLock {
  let current = mine;
  let released = false;
  const ours = () => {
    const held = parseLock(path);
    return held?.pid === mine.pid && held.processToken === mine.processToken && held.startedAt === mine.startedAt;
  };
  return {
    path,
    update(info) {
      if (released || !ours()) return;
      current = { ...current, ...info, pid: mine.pid };
      writeFileAtomicSync(path, `${JSON.stringify(current)}\n`, { mode: 0o600 });
    },
    release() {
      if (released) return;
      released = true;
      if (ours()) rmSync(path, { force: true });
    },
  };
}
