import type { Command } from "../context.js";
import { duration, megabytes, printJson, table, withSpinner } from "../output.js";

export const healthCommand: Command = {
  name: "health",
  scopes: ["operator.read"],
  summary: "the gateway's health: event loop, memory, connections, what is missing",
  usage: "gateway health [--json]",
  async run({ connect, global, io }) {
    const client = await connect();
    try {
      const health = await withSpinner(io, "asking the gateway", client.request("health"));
      if (global.json) {
        printJson(io, health);
        return 0;
      }
      const loop = health.eventLoop;
      io.stdout(
        `${table([
          ["status", health.ok ? "ok" : `degraded (${loop?.reasons.join(", ") ?? "unknown"})`],
          ["version", health.gateway.version],
          ["uptime", duration(health.gateway.uptimeMs)],
          [
            "connections",
            `${health.gateway.connections.total} (${health.gateway.connections.operators} operators, ${health.gateway.connections.nodes} nodes)`,
          ],
          [
            "memory",
            `${megabytes(health.gateway.memory.rssBytes)} RSS, ${megabytes(health.gateway.memory.heapUsedBytes)} heap`,
          ],
          [
            "event loop",
            loop
              ? `p99 ${loop.delayP99Ms} ms, max ${loop.delayMaxMs} ms, utilization ${loop.utilization}`
              : "not sampled yet",
          ],
        ])}\n`,
      );
      for (const warning of health.gateway.warnings) io.stdout(`! ${warning}\n`);
      return 0;
    } finally {
      client.close();
    }
  },
};
