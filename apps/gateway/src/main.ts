// Entry of the `gateway` command: turn on Node's on-disk compile cache first (start-up is dominated by compiling the
// bundled dependencies), then load the bundled gateway.
import module from "node:module";

module.enableCompileCache?.();
await import(new URL("./gateway.js", import.meta.url).href);
