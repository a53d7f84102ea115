#!/usr/bin/env node
// The root package's `gateway` bin: `npx gateway …` in a clone runs this repository's gateway (installing and
// building it on first use), never the unrelated public package of the same name.
import { spawnSync } from "node:child_process";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const bootstrap = join(dirname(fileURLToPath(import.meta.url)), "bootstrap.mjs");
const result = spawnSync(process.execPath, [bootstrap, "gateway", ...process.argv.slice(2)], { stdio: "inherit" });
process.exit(result.status ?? 1);
