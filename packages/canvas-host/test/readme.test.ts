// The README's example is runnable: run it and compare what it prints.
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
// @ts-expect-error -- a plain .mjs helper of the private vitest preset
import { runReadmeExample } from "@gateway/vitest-preset/readme-example";
import { expect, it } from "vitest";

it("runs the README example", async () => {
  const result = await runReadmeExample(join(dirname(fileURLToPath(import.meta.url)), ".."));
  expect(result.stderr).toBe("");
  expect(result.stdout.trim().split("\n")).toEqual(["200 text/html; charset=utf-8", "true", "403"]);
});
