// The README's example is runnable: run it against the installed reference and compare what it prints.
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
// @ts-expect-error -- a plain .mjs helper of the private vitest preset
import { runReadmeExample } from "@gateway/vitest-preset/readme-example";
import { expect, it } from "vitest";
import { referenceOrSkip } from "./support/reference-cli.js";

const reference = referenceOrSkip();

it.skipIf(!reference)("runs the README example", async () => {
  const result = await runReadmeExample(join(dirname(fileURLToPath(import.meta.url)), ".."));
  expect(result.stderr).toBe("");
  expect(result.stdout).toMatch(/^0 Gateway event loop: ok/);
  expect(result.stdout).toMatch(/"version": "0.0.0-interop"/);
});
