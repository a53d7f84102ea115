// Runs the first ```ts block of a package README against the package's source, so README examples cannot rot.

import { readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { runProcess } from "./run-process.mjs";

/**
 * Execute the README's first TypeScript block inside the package (so `@gateway/<name>` resolves to itself through
 * the `@gateway/source` condition) and return what it printed.
 * @param {string} packageDir
 * @param {Record<string, string>} [env] extra environment for the example (a gateway URL and token, say)
 * @returns {Promise<{ stdout: string; stderr: string; status: number | null }>}
 */
export async function runReadmeExample(packageDir, env = {}) {
  const readme = readFileSync(join(packageDir, "README.md"), "utf8");
  const code = /```ts\n([\s\S]*?)```/.exec(readme)?.[1];
  if (!code) throw new Error(`${packageDir}/README.md has no \`\`\`ts example`);
  const file = join(packageDir, ".readme-example.ts");
  writeFileSync(file, code);
  try {
    const result = await runProcess(process.execPath, ["--conditions=@gateway/source", "--import", "tsx", file], {
      cwd: packageDir,
      env,
    });
    return { stdout: result.stdout, stderr: result.stderr, status: result.code };
  } finally {
    rmSync(file, { force: true });
  }
}
