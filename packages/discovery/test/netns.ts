// Two network namespaces joined by a veth pair: two "machines" on one link, where multicast works and nothing leaks
// to the real network. Needs root and `ip netns` (CI on these machines has both: it runs as root).
import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import { randomBytes } from "node:crypto";

/** Whether this machine can create network namespaces (root + `ip netns`). */
export function netnsAvailable(): boolean {
  if (process.getuid?.() !== 0) return false;
  const probe = `gwprobe${randomBytes(3).toString("hex")}`;
  try {
    execFileSync("ip", ["netns", "add", probe], { stdio: "ignore" });
    execFileSync("ip", ["netns", "del", probe], { stdio: "ignore" });
    return true;
  } catch {
    return false;
  }
}

/** A child process in a namespace, with what it printed so far. */
export interface NamespacedProcess {
  readonly child: ChildProcess;
  output(): string;
  exited: Promise<number | null>;
}

/** Two namespaces on one link: `a` is 10.213.N.1, `b` is 10.213.N.2. */
export interface Link {
  readonly a: string;
  readonly b: string;
  readonly addressA: string;
  readonly addressB: string;
  /** Run `node --import tsx <script> …args` in a namespace, from `cwd` (so `@gateway/*` resolve to sources). */
  run(namespace: string, cwd: string, script: string, args: string[]): NamespacedProcess;
  remove(): void;
}

export function createLink(): Link {
  const id = randomBytes(3).toString("hex");
  const subnet = 1 + (Number.parseInt(id.slice(0, 2), 16) % 250);
  const a = `gwa${id}`;
  const b = `gwb${id}`;
  const ip = (...args: string[]) => execFileSync("ip", args, { stdio: ["ignore", "ignore", "pipe"] });
  const addressA = `10.213.${subnet}.1`;
  const addressB = `10.213.${subnet}.2`;
  const children: ChildProcess[] = [];
  ip("netns", "add", a);
  ip("netns", "add", b);
  try {
    ip("link", "add", `va${id}`, "netns", a, "type", "veth", "peer", "name", `vb${id}`, "netns", b);
    for (const [namespace, device, address] of [
      [a, `va${id}`, addressA],
      [b, `vb${id}`, addressB],
    ] as const) {
      ip("-n", namespace, "link", "set", "lo", "up");
      ip("-n", namespace, "addr", "add", `${address}/24`, "dev", device);
      ip("-n", namespace, "link", "set", device, "up");
      ip("-n", namespace, "route", "add", "224.0.0.0/4", "dev", device);
    }
  } catch (error) {
    for (const namespace of [a, b]) execFileSync("ip", ["netns", "del", namespace], { stdio: "ignore" });
    throw error;
  }
  return {
    a,
    b,
    addressA,
    addressB,
    run(namespace, cwd, script, args) {
      const child = spawn(
        "ip",
        [
          "netns",
          "exec",
          namespace,
          process.execPath,
          "--conditions=@gateway/source",
          "--import",
          "tsx",
          script,
          ...args,
        ],
        {
          cwd,
          stdio: ["pipe", "pipe", "pipe"],
          env: { PATH: process.env.PATH ?? "/usr/bin:/bin", HOME: process.env.HOME ?? "/root" },
        },
      );
      children.push(child);
      let text = "";
      child.stdout?.on("data", (chunk: Buffer) => {
        text += chunk.toString("utf8");
      });
      child.stderr?.on("data", (chunk: Buffer) => {
        text += chunk.toString("utf8");
      });
      const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
      return { child, output: () => text, exited };
    },
    remove() {
      for (const child of children) if (child.exitCode === null) child.kill("SIGKILL");
      // Deleting a namespace removes its end of the veth pair, and with it the other end.
      for (const namespace of [a, b]) {
        try {
          execFileSync("ip", ["netns", "del", namespace], { stdio: "ignore" });
        } catch {
          // already gone
        }
      }
    },
  };
}
