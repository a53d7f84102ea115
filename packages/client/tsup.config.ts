import { defineConfig } from "tsup";

export default defineConfig([
  // The package as imported by bundlers and Node: ESM + types, dependencies external.
  {
    entry: ["src/index.ts", "src/node.ts"],
    format: ["esm"],
    dts: true,
    clean: true,
    sourcemap: true,
    target: "es2022",
    platform: "neutral",
    external: [/^node:/],
  },
  // One self-contained file for a <script type="module"> (the Control UI, a test page): dependencies bundled.
  {
    entry: { "gateway-client": "src/index.ts" },
    outDir: "dist/browser",
    format: ["esm"],
    platform: "browser",
    target: "es2022",
    minify: true,
    sourcemap: true,
    noExternal: [/.*/],
  },
]);
