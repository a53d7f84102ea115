#!/usr/bin/env node
// The `gateway` command: runs the bundle in dist/ (built by `npm start`, or `pnpm --filter gateway build`). This file
// exists before the build, so package managers link the command on install (they skip a bin that is not there yet).
import { existsSync } from "node:fs";

const bundle = new URL("../dist/main.js", import.meta.url);
if (!existsSync(bundle)) {
  process.stderr.write("✖ the gateway is not built yet: run `npm start` once in the clone (it builds it)\n");
  process.exit(1);
}
await import(bundle.href);
