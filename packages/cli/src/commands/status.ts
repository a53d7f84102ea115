import { resolveConnection } from "../connection.js";
import type { Command } from "../context.js";
import type { LocalConfig } from "../local-config.js";
import { duration, printJson, table, withSpinner } from "../output.js";

/**
 * Where the Control UI of the gateway this command reached is, with the token in the fragment (never the query:
 * a fragment reaches neither the server's log nor a proxy). Undefined when the config turns the UI off.
 */
export function controlUiUrl(
  target: { url: string; token?: string },
  local: LocalConfig | undefined,
): string | undefined {
  const controlUi = ((local?.config.gateway as { controlUi?: unknown } | undefined)?.controlUi ?? {}) as {
    enabled?: unknown;
    basePath?: unknown;
  };
  if (controlUi.enabled === false) return undefined;
  const base = typeof controlUi.basePath === "string" ? `/${controlUi.basePath}/`.replace(/\/+/g, "/") : "/";
  const url = new URL(target.url);
  const scheme = url.protocol === "wss:" ? "https:" : "http:";
  return `${scheme}//${url.host}${base}${target.token ? `#token=${encodeURIComponent(target.token)}` : ""}`;
}

export const statusCommand: Command = {
  name: "status",
  summary: "a one-screen summary of the running gateway",
  usage: "gateway status [--json]",
  async run({ connect, global, io, localConfig }) {
    const client = await connect();
    try {
      const status = await withSpinner(io, "asking the gateway", client.request("status"));
      if (global.json) {
        printJson(io, status);
        return 0;
      }
      const ui = controlUiUrl(resolveConnection(global, io, localConfig), localConfig());
      io.stdout(
        `${table([
          ["gateway", `${status.version}, up ${duration(status.uptimeMs)}`],
          ["listening", `${status.listen.host}:${status.listen.port} (auth ${status.authMode})`],
          ...(ui ? [["control ui", ui]] : []),
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
