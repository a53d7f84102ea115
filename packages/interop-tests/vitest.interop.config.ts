// Not `vitest.config.ts` on purpose: the root run (`npm test`) lists packages/*/vitest.config.ts, and these tests need
// the reference implementation (~670 MB, installed into a cache on first use), so they run on their own:
// `pnpm test:interop` (CI runs it after the main test run).
import { definePackageProject } from "@gateway/vitest-preset";

export default definePackageProject(import.meta.url, {
  testTimeout: 120_000,
  hookTimeout: 600_000,
  // The reference's CLI is a large Node program (a second or two per command): one file at a time on a small machine.
  fileParallelism: false,
});
