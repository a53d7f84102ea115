#!/usr/bin/env node
// The root package's `gateway` bin: `npx gateway …` in a clone runs this repository's gateway (installing and
// building it on first use), never the unrelated public package of the same name. It is the bootstrap's `gateway`
// task, in this same process, so signals and exit codes pass straight through.
process.argv.splice(2, 0, "gateway");
await import("./bootstrap.mjs");
