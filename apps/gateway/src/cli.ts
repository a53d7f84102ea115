// Every command but \`run\` (bundled into dist/cli.js): talks to a running gateway through @gateway/client and never
// loads the server, so \`gateway health\` starts fast.
import { runCli } from "@gateway/cli";

// A closed pipe (`gateway status | head -1`) ends the program quietly, like any Unix tool.
for (const stream of [process.stdout, process.stderr]) {
  stream.on("error", (error: NodeJS.ErrnoException) => {
    if (error.code === "EPIPE") process.exit(process.exitCode ?? 0);
    throw error;
  });
}

process.exitCode = await runCli(process.argv.slice(2), {
  stdout: (text) => process.stdout.write(text),
  stderr: (text) => process.stderr.write(text),
  env: process.env,
  isTty: process.stdout.isTTY === true,
});
