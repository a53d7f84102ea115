// The README's example is runnable: execute its first TypeScript block and compare what it prints.
import { spawnSync } from "node:child_process";
import { readFileSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { expect, it } from "vitest";

const packageDir = join(dirname(fileURLToPath(import.meta.url)), "..");

it("runs the README example", () => {
  const readme = readFileSync(join(packageDir, "README.md"), "utf8");
  const code = /```ts\n([\s\S]*?)```/.exec(readme)?.[1];
  expect(code).toBeDefined();
  // Inside the package, `@gateway/protocol` resolves to itself; the source condition avoids needing a build.
  const file = join(packageDir, "test", ".readme-example.ts");
  writeFileSync(file, code!);
  try {
    const result = spawnSync(process.execPath, ["--conditions=@gateway/source", "--import", "tsx", file], {
      cwd: packageDir,
      encoding: "utf8",
    });
    expect(result.stderr).toBe("");
    expect(result.stdout.trim().split("\n")).toEqual([
      "operator.write operator.write",
      "/idempotencyKey: Expected required property",
      "INVALID_FRAME at /method",
    ]);
  } finally {
    rmSync(file, { force: true });
  }
});
