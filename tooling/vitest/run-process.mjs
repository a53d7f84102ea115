// Run a process to completion and collect what it printed — without blocking the test's event loop, so a gateway in
// the test's own process keeps answering it.
import { spawn } from "node:child_process";

/**
 * @param {string} command
 * @param {string[]} args
 * @param {{ cwd?: string; env?: Record<string, string | undefined>; input?: string }} [options]
 * @returns {Promise<{ code: number | null; stdout: string; stderr: string }>}
 */
export function runProcess(command, args, options = {}) {
  const child = spawn(command, args, { cwd: options.cwd, env: { ...process.env, ...options.env } });
  if (options.input !== undefined) child.stdin.end(options.input);
  let stdout = "";
  let stderr = "";
  child.stdout.on("data", (chunk) => {
    stdout += chunk;
  });
  child.stderr.on("data", (chunk) => {
    stderr += chunk;
  });
  return new Promise((resolve, reject) => {
    child.once("error", reject);
    child.once("close", (code) => resolve({ code, stdout, stderr }));
  });
}
