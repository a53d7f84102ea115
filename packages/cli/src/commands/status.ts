import type { ExposureStatus } from "@gateway/protocol";
import type { Command } from "../context.js";
import { duration, printJson, table, withSpinner } from "../output.js";

/** What the gateway exposes beyond its port: the canvas host, Tailscale, mDNS. */
function exposureRows(exposure: ExposureStatus | undefined): string[][] {
  const rows: string[][] = [];
  if (exposure?.canvasHost) rows.push(["canvas", exposure.canvasHost.url]);
  const tailscale = exposure?.tailscale;
  if (tailscale) rows.push([`tailscale ${tailscale.mode}`, tailscale.url ?? tailscale.state]);
  const mdns = exposure?.mdns;
  if (mdns) rows.push(["mdns", mdns.state === "advertising" ? `${mdns.serviceType} "${mdns.name}"` : mdns.state]);
  return rows;
}

export const statusCommand: Command = {
  name: "status",
  summary: "a one-screen summary of the running gateway",
  usage: "gateway status [--json]",
  async run({ connect, global, io }) {
    const client = await connect();
    try {
      const status = await withSpinner(io, "asking the gateway", client.request("status"));
      if (global.json) {
        printJson(io, status);
        return 0;
      }
      io.stdout(
        `${table([
          ["gateway", `${status.version}, up ${duration(status.uptimeMs)}`],
          ["listening", `${status.listen.host}:${status.listen.port} (auth ${status.authMode})`],
          ["connections", String(status.connections.total)],
          ["methods", String(status.methods)],
          ...(status.stateDir ? [["state dir", status.stateDir]] : []),
          ...(status.configPath ? [["config", status.configPath]] : []),
          ...exposureRows(status.exposure),
        ])}\n`,
      );
      if (status.warnings.length > 0)
        io.stdout(`\nwhat is missing:\n${status.warnings.map((line) => `  - ${line}`).join("\n")}\n`);
      return 0;
    } finally {
      client.close();
    }
  },
};
