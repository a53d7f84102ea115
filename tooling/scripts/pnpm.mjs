// How to run pnpm from scripts and tests: the pnpm that runs us when there is one, else `npx -y pnpm@10`.
import { spawnSync } from "node:child_process";

/** Command and leading args that run pnpm 10 on this machine. */
export function pnpmCommand() {
  const execPath = process.env.npm_execpath;
  if (execPath && /pnpm/.test(execPath)) return { command: process.execPath, args: [execPath] };
  const onPath = spawnSync("pnpm", ["--version"], { encoding: "utf8" });
  if (onPath.status === 0 && onPath.stdout.startsWith("10.")) return { command: "pnpm", args: [] };
  return { command: "npx", args: ["-y", "pnpm@10"] };
}
