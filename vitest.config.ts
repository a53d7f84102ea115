import { defineConfig } from "vitest/config";

// One run over every package's tests; each package defines its project with @gateway/vitest-preset.
export default defineConfig({
  test: {
    projects: ["packages/*/vitest.config.ts", "apps/*/vitest.config.ts", "examples/*/vitest.config.ts"],
  },
});
