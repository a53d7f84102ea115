import { defineConfig } from "tsup";

// The Node side only (where the built files are); the browser app is bundled by build-ui.mjs.
export default defineConfig({
  entry: ["src/index.ts"],
  format: ["esm"],
  dts: true,
  clean: false,
  sourcemap: true,
  target: "node22",
  platform: "node",
});
