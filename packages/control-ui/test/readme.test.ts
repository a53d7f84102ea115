// The README's example is runnable: it serves this package's built UI and prints what the gateway answers.
import { spawnSync } from "node:child_process";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
// @ts-expect-error -- a plain .mjs helper of the private vitest preset
import { runReadmeExample } from "@gateway/vitest-preset/readme-example";
import { beforeAll, expect, it } from "vitest";

const packageDir = join(dirname(fileURLToPath(import.meta.url)), "..");

beforeAll(() => {
  const built = spawnSync(process.execPath, [join(packageDir, "build-ui.mjs")], { cwd: packageDir, encoding: "utf8" });
  if (built.status !== 0) throw new Error(built.stderr);
});

it("runs the README example: the UI is served with its CSP", async () => {
  const result = await runReadmeExample(packageDir, { GATEWAY_TOKEN: "readme-token-0123456789" });
  expect(result.stderr).toBe("");
  const lines = result.stdout.trim().split("\n");
  expect(lines[0]).toBe("200 text/html; charset=utf-8");
  expect(lines[1]).toBe("csp: connect-src 'self'");
  expect(lines[2]).toMatch(/^open http:\/\/127\.0\.0\.1:\d+\/#token=… in a browser$/);
});
