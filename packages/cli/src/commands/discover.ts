import { CliError, type Command, ExitCode } from "../context.js";
import { printJson, table, withSpinner } from "../output.js";

export const discoverCommand: Command = {
  name: "discover",
  summary: "list the gateways that announce themselves on the local network (mDNS _openclaw-gw._tcp)",
  usage: "gateway discover [--timeout-ms 2000] [--json]",
  options: {
    "timeout-ms": { value: true, description: "how long to listen for answers (default 2000)" },
  },
  async run({ flags, global, io }) {
    const raw = flags["timeout-ms"];
    const timeoutMs = typeof raw === "string" ? Number(raw) : 2_000;
    if (!Number.isInteger(timeoutMs) || timeoutMs < 100 || timeoutMs > 60_000)
      throw new CliError("--timeout-ms takes a whole number of milliseconds between 100 and 60000", ExitCode.usage);
    const { browseGateways } = await import("@gateway/discovery");
    const found = await withSpinner(io, "listening for gateways", browseGateways({ timeoutMs }));
    if (global.json) {
      printJson(io, found);
      return 0;
    }
    if (found.length === 0) {
      io.stdout(
        "no gateway answered. A gateway announces itself only when it binds beyond loopback (gateway.bind lan) and discovery.mdns.mode is not off; multicast must reach this machine.\n",
      );
      return 0;
    }
    io.stdout(
      `${table([
        ["name", "url", "protocol", "tls fingerprint"],
        ...found.map((gateway) => [
          gateway.name,
          gateway.url,
          gateway.protocolVersion === undefined ? "?" : String(gateway.protocolVersion),
          gateway.tlsFingerprintSha256 ?? (gateway.tls ? "(none published)" : "-"),
        ]),
      ])}\n`,
    );
    return 0;
  },
};
