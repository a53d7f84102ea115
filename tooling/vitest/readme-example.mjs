// Runs the first ```ts block of a package README against the package's source, so README examples cannot rot.
import { spawnSync } from "node:child_process";
import { readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";

/**
 * Execute the README's first TypeScript block inside the package (so `@gateway/<name>` resolves to itself through
 * the `@gateway/source` condition) and return what it printed.
 * @param {string} packageDir
 * @returns {{ stdout: string; stderr: string; status: number | null }}
 */
export function runReadmeExample(packageDir) {
  const readme = readFileSync(join(packageDir, "README.md"), "utf8");
  const code = /```ts\n([\s\S]*?)```/.exec(readme)?.[1];
  if (!code) throw new Error(`${packageDir}/README.md has no \`\`\`ts example`);
  const file = join(packageDir, ".readme-example.ts");
  writeFileSync(file, code);
  try {
    const result = spawnSync(process.execPath, ["--conditions=@gateway/source", "--import", "tsx", file], {
      cwd: packageDir,
      encoding: "utf8",
    });
    return { stdout: result.stdout, stderr: result.stderr, status: result.status };
  } finally {
    rmSync(file, { force: true });
  }
}
