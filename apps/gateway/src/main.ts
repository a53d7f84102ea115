// Entry of the \`gateway\` command: check Node first (an old Node fails later with a misleading "no WebSocket
// implementation"), turn on Node's on-disk compile cache (start-up is dominated by compiling the bundled
// dependencies), then load only what this invocation needs: the server for \`run\` (and bare flags such as
// \`gateway --port 0\`), the client-only CLI for everything else.
import module from "node:module";

const [major = 0, minor = 0] = process.versions.node.split(".").map(Number);
if (major < 22 || (major === 22 && minor < 19)) {
  process.stderr.write(
    `✖ Node ≥ 22.19 is needed; this is Node ${process.versions.node}. Here is how to get it:\n` +
      "    with nvm:    nvm install 24 && nvm use 24\n" +
      "    without root: npm i --prefix ~/.cache/node24 --no-save node@24 && export PATH=~/.cache/node24/node_modules/node/bin:$PATH\n" +
      "    or a package from https://nodejs.org/en/download\n",
  );
  process.exit(1);
}

module.enableCompileCache?.();
const args = process.argv.slice(2);
const command = args.find(
  (arg, index) =>
    !arg.startsWith("-") && !args[index - 1]?.match(/^--(port|bind|auth|token|password|state-dir|config)$/),
);
const wantsHelp = args.includes("--help") || args.includes("-h");
// `gateway --help` lists every command; `gateway run --help` (and `npm start -- --help`, which sets
// GATEWAY_START) shows run's own options.
const run = command === "run" || (command === undefined && (!wantsHelp || process.env.GATEWAY_START === "1"));
await import(new URL(run ? "./gateway.js" : "./cli.js", import.meta.url).href);
