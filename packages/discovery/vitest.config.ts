import { definePackageProject } from "@gateway/vitest-preset";

export default definePackageProject(import.meta.url);
