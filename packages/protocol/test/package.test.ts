// The package as a user gets it: build, `pnpm pack`, install the tarball into an empty project with npm, then import
// it and type-check a consumer against its declarations.
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
// @ts-expect-error -- a plain .mjs helper shared with the scripts
import { pnpmCommand } from "../../../tooling/scripts/pnpm.mjs";

const packageDir = join(dirname(fileURLToPath(import.meta.url)), "..");
const workspaceRoot = join(packageDir, "..", "..");
let scratch = "";

function run(command: string, args: string[], cwd: string) {
  const result = spawnSync(command, args, {
    cwd,
    encoding: "utf8",
    env: { ...process.env, npm_config_loglevel: "error" },
  });
  if (result.status !== 0) {
    throw new Error(`${command} ${args.join(" ")} failed (${result.status}):\n${result.stdout}\n${result.stderr}`);
  }
  return result.stdout;
}

describe("the published @gateway/protocol package", () => {
  beforeAll(() => {
    scratch = mkdtempSync(join(tmpdir(), "gateway-protocol-pack-"));
    const pnpm = pnpmCommand() as { command: string; args: string[] };
    // `npm test` builds every package first; a bare `vitest` run builds here when dist/ is missing.
    if (!existsSync(join(packageDir, "dist", "index.js")))
      run(pnpm.command, [...pnpm.args, "run", "build"], packageDir);
    run(pnpm.command, [...pnpm.args, "pack", "--pack-destination", scratch], packageDir);
  }, 120_000);

  afterAll(() => {
    if (scratch) rmSync(scratch, { recursive: true, force: true });
  });

  it("installs from its tarball, imports, and type-checks in a fresh project", () => {
    const tarball = readdirSync(scratch).find((name) => name.endsWith(".tgz"));
    expect(tarball).toBeDefined();
    const project = join(scratch, "consumer");
    run("mkdir", ["-p", project], scratch);
    writeFileSync(join(project, "package.json"), JSON.stringify({ name: "consumer", private: true, type: "module" }));
    run("npm", ["install", "--no-audit", "--no-fund", join(scratch, tarball!)], project);

    const manifest = JSON.parse(
      run("node", ["-p", "JSON.stringify(require('./node_modules/@gateway/protocol/package.json'))"], project),
    );
    expect(JSON.stringify(manifest)).not.toContain("workspace:");
    expect(manifest.exports["."]).toMatchObject({ types: "./dist/index.d.ts", default: "./dist/index.js" });

    writeFileSync(
      join(project, "check.mjs"),
      `import { PROTOCOL_VERSION, parseFrame, MethodTable } from "@gateway/protocol";
       const frame = parseFrame('{"type":"req","id":"1","method":"health"}');
       if (PROTOCOL_VERSION !== 4 || !frame.ok || MethodTable.health.scope !== "operator.read") process.exit(1);
       console.log("imported");`,
    );
    expect(run("node", ["check.mjs"], project).trim()).toBe("imported");

    writeFileSync(
      join(project, "consumer.ts"),
      `import { type MethodResult, type HelloOk, validateParams } from "@gateway/protocol";
       const result = validateParams("send", { to: "x", idempotencyKey: "k" });
       export const to: string | undefined = result.ok ? result.value.to : undefined;
       export const version: MethodResult<"health">["gateway"]["version"] = "1";
       export type Hello = HelloOk["auth"]["scopes"];`,
    );
    writeFileSync(
      join(project, "tsconfig.json"),
      JSON.stringify({
        compilerOptions: {
          strict: true,
          module: "NodeNext",
          moduleResolution: "NodeNext",
          noEmit: true,
          skipLibCheck: false,
          types: [],
        },
        files: ["consumer.ts"],
      }),
    );
    run(process.execPath, [join(workspaceRoot, "node_modules", "typescript", "bin", "tsc"), "-p", "."], project);
  }, 180_000);
});
