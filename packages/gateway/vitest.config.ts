import { definePackageProject } from "@gateway/vitest-preset";

// Named apart from the app's project (apps/gateway is also "gateway").
export default definePackageProject(import.meta.url, { name: "gateway-library" });
