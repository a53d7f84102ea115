import type { HealthResult } from "@gateway/protocol";
import type { Command } from "../context.js";
import { type Loose, numberOr, row, stringOr, strings } from "../loose.js";
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
      io.stdout(`${table(healthRows(health))}\n`);
      for (const warning of strings(health.gateway?.warnings)) io.stdout(`! ${warning}\n`);
      return 0;
    } finally {
      client.close();
    }
  },
};

/** The rows of `gateway health`: ours, and the reference's (no `gateway` block; memory, plugins and agents instead). */
export function healthRows(health: Loose<HealthResult>): string[][] {
  const loop = health.eventLoop as Loose<NonNullable<HealthResult["eventLoop"]>> & { degraded?: unknown };
  const reasons = strings(loop?.reasons);
  const gateway = health.gateway;
  const connections = gateway?.connections;
  const memory =
    gateway?.memory ??
    (health as { processMemory?: Loose<NonNullable<HealthResult["gateway"]>["memory"]> }).processMemory;
  const rss = numberOr(memory?.rssBytes);
  const heap = numberOr(memory?.heapUsedBytes);
  const uptime = numberOr(gateway?.uptimeMs);
  const total = numberOr(connections?.total);
  const p99 = numberOr(loop?.delayP99Ms);
  const reference = health as { plugins?: { loaded?: unknown }; agents?: unknown; defaultAgentId?: unknown };
  const plugins = strings(reference.plugins?.loaded);
  return [
    ["status", health.ok === true ? "ok" : `degraded (${reasons.join(", ") || "unknown"})`],
    ...row("version", stringOr(gateway?.version)),
    ...row("uptime", uptime === undefined ? undefined : duration(uptime)),
    ...row(
      "connections",
      total === undefined
        ? undefined
        : `${total} (${numberOr(connections?.operators) ?? 0} operators, ${numberOr(connections?.nodes) ?? 0} nodes)`,
    ),
    ...row(
      "memory",
      rss === undefined ? undefined : `${megabytes(rss)} RSS${heap === undefined ? "" : `, ${megabytes(heap)} heap`}`,
    ),
    [
      "event loop",
      p99 === undefined
        ? "not sampled yet"
        : `p99 ${p99} ms, max ${numberOr(loop?.delayMaxMs) ?? "?"} ms, utilization ${numberOr(loop?.utilization) ?? "?"}${
            loop?.degraded === true && health.ok === true ? ` (degraded: ${reasons.join(", ") || "unknown"})` : ""
          }`,
    ],
    ...row("plugins", plugins.length > 0 ? plugins.join(", ") : undefined),
    ...row(
      "agents",
      Array.isArray(reference.agents)
        ? `${reference.agents.length}${typeof reference.defaultAgentId === "string" ? ` (default ${reference.defaultAgentId})` : ""}`
        : undefined,
    ),
  ];
}
