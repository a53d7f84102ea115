// Runs inside a network namespace: `gateway <stateDir> <token>` runs a gateway from that state directory until stdin
// closes, and prints what its `status` says it exposes;
// `discover <args…>` runs `gateway discover <args…>` and exits with its code.
import { createGatewayClient } from "@gateway/client";
import { createGateway } from "@gateway/gateway";
import { runCli } from "../src/index.js";

const [mode, ...args] = process.argv.slice(2);
if (mode === "gateway") {
  const gateway = createGateway({ stateDir: args[0]!, logging: { stdout: false } });
  const address = await gateway.listen();
  const client = createGatewayClient({ url: `ws://127.0.0.1:${address.port}`, token: args[1], reconnect: false });
  await client.ready();
  console.log(`exposure ${JSON.stringify((await client.request("status")).exposure ?? null)}`);
  client.close();
  console.log(`listening ${address.port}`);
  process.stdin.resume();
  process.stdin.once("end", async () => {
    await gateway.close();
    process.exit(0);
  });
} else if (mode === "discover") {
  const code = await runCli(["discover", ...args], {
    stdout: (text) => process.stdout.write(text),
    stderr: (text) => process.stderr.write(text),
    env: {},
    isTty: false,
  });
  process.stdout.write(`\nexit ${code}\n`);
  process.exit(code);
}
