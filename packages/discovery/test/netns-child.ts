// Runs inside a network namespace (see netns.ts): `advertise <name> <port> <bindHost> [fingerprint]` advertises until
// stdin closes, then sends goodbyes; `browse <ms>` prints what it found as one JSON line.
import { advertiseGateway, browseGateways } from "@gateway/discovery";

const [mode, ...args] = process.argv.slice(2);
if (mode === "advertise") {
  const [name = "test", port = "18789", bindHost = "0.0.0.0", fingerprint] = args;
  const advertisement = await advertiseGateway({
    name,
    port: Number(port),
    bindHost,
    protocolVersion: 4,
    ...(fingerprint ? { tlsFingerprintSha256: fingerprint } : {}),
  });
  console.log(`advertising ${JSON.stringify({ name: advertisement.name, interfaces: advertisement.interfaces })}`);
  process.stdin.resume();
  process.stdin.once("end", async () => {
    await advertisement.stop();
    console.log("stopped");
    process.exit(0);
  });
} else if (mode === "browse") {
  console.log(`found ${JSON.stringify(await browseGateways({ timeoutMs: Number(args[0] ?? 2000) }))}`);
  process.exit(0);
}
