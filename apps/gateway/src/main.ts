// Entry of the \`gateway\` command: turn on Node's on-disk compile cache first (start-up is dominated by compiling the
// bundled dependencies), then load only what this invocation needs: the server for \`run\` (and bare flags such as
// \`gateway --port 0\`), the client-only CLI for everything else.
import module from "node:module";

module.enableCompileCache?.();
const args = process.argv.slice(2);
const command = args.find(
  (arg, index) =>
    !arg.startsWith("-") && !args[index - 1]?.match(/^--(port|bind|auth|token|password|state-dir|config)$/),
);
const wantsHelp = args.includes("--help") || args.includes("-h");
const run = command === "run" || (command === undefined && !wantsHelp);
await import(new URL(run ? "./gateway.js" : "./cli.js", import.meta.url).href);
