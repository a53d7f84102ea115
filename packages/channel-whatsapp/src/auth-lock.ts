// One owner per WhatsApp session: two processes (or two accounts) on the same credentials replace each other (440)
// in a loop. The lock is a file holding the owner's pid; a lock whose process is gone is taken over.
import { mkdir, open, readFile, rm } from "node:fs/promises";
import { join } from "node:path";

/** Lock files this process holds (a pid in a lock file can be ours after a restart in a container: pid 1 again). */
const held = new Set<string>();

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
};

/** A held lock: `release()` removes it (idempotent). */
export interface AuthLock {
  release(): Promise<void>;
}

/**
 * Take the lock of the credentials in `root`: the lock, or who holds it (`heldBy`: another running process's pid,
 * or this process's when another of its accounts has them).
 */
export async function lockCredentials(root: string): Promise<AuthLock | { heldBy: number }> {
  await mkdir(root, { recursive: true, mode: 0o700 });
  const path = join(root, "LOCK");
  if (held.has(path)) return { heldBy: process.pid };
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const handle = await open(path, "wx", 0o600);
      await handle.writeFile(`${process.pid}\n`);
      await handle.close();
      held.add(path);
      let released = false;
      return {
        async release() {
          if (released) return;
          released = true;
          held.delete(path);
          await rm(path, { force: true });
        },
      };
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error;
      const pid = Number.parseInt((await readFile(path, "utf8").catch(() => "")).trim(), 10);
      // Our own pid without our own record is a previous life of this process (a container restart): stale.
      if (Number.isInteger(pid) && pid > 0 && pid !== process.pid && alive(pid)) return { heldBy: pid };
      await rm(path, { force: true });
    }
  }
  return { heldBy: -1 };
}
