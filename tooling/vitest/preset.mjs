// The one Vitest preset of the workspace: each package's vitest.config.ts calls `definePackageProject(import.meta.url)`.
import { basename, dirname } from "node:path";
import { fileURLToPath } from "node:url";
import { defineProject } from "vitest/config";

/**
 * A Vitest project for the package whose `vitest.config.ts` calls it.
 * Sibling packages resolve to their `src/` through the `@gateway/source` export condition, so tests never need a build.
 * @param {string} configUrl `import.meta.url` of the package's vitest.config.ts
 * @param {import("vitest/config").UserWorkspaceConfig["test"]} [overrides]
 */
export function definePackageProject(configUrl, overrides = {}) {
  const root = dirname(fileURLToPath(configUrl));
  return defineProject({
    root,
    resolve: { conditions: ["@gateway/source"] },
    ssr: { resolve: { conditions: ["@gateway/source"] } },
    test: {
      name: basename(root),
      include: ["src/**/*.test.ts", "test/**/*.test.ts"],
      environment: "node",
      testTimeout: 20_000,
      hookTimeout: 30_000,
      ...overrides,
    },
  });
}
