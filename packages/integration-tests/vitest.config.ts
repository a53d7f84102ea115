import { definePackageProject } from "@gateway/vitest-preset";

export default definePackageProject(import.meta.url, { globalSetup: ["test/global-setup.ts"] });
