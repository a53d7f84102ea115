import type { Command } from "../context.js";
import { duration, printJson, table, withSpinner } from "../output.js";

export const statusCommand: Command = {
  name: "status",
  scopes: ["operator.read"],
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
