import type { GatewayClient } from "@gateway/client";
import type { ExposureStatus, StatusResult } from "@gateway/protocol";
import { resolveConnection } from "../connection.js";
import { CliError, type Command, type CommandContext, ExitCode } from "../context.js";
import type { LocalConfig } from "../local-config.js";
import { type Loose, numberOr, row, stringOr, strings } from "../loose.js";
import { duration, megabytes, printJson, table, withSpinner } from "../output.js";

/** What the gateway exposes beyond its port: the canvas host, Tailscale, mDNS. */
function exposureRows(exposure: Loose<ExposureStatus> | undefined): string[][] {
  const rows: string[][] = [];
  const canvas = stringOr(exposure?.canvasHost?.url);
  if (canvas) rows.push(["canvas", canvas]);
  const tailscale = exposure?.tailscale;
  if (tailscale) rows.push([`tailscale ${tailscale.mode}`, stringOr(tailscale.url) ?? String(tailscale.state)]);
  const mdns = exposure?.mdns;
  if (mdns)
    rows.push(["mdns", mdns.state === "advertising" ? `${mdns.serviceType} "${mdns.name}"` : String(mdns.state)]);
  return rows;
}

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

/** What the reference's `status` carries instead of (or beside) ours. */
interface ReferenceStatus {
  runtimeVersion?: unknown;
  processMemory?: { rssBytes?: unknown; heapUsedBytes?: unknown };
  sessions?: { count?: unknown };
  tasks?: { total?: unknown; active?: unknown };
  degradedPlugins?: unknown;
}

/** The rows of `gateway status`: ours, and the reference's (version named `runtimeVersion`, no `listen`). */
export function statusRows(status: Loose<StatusResult> & ReferenceStatus, controlUi: string | undefined): string[][] {
  const version = stringOr(status.version) ?? stringOr(status.runtimeVersion) ?? "unknown version";
  const uptime = numberOr(status.uptimeMs);
  const host = stringOr(status.listen?.host);
  const port = numberOr(status.listen?.port);
  const auth = stringOr(status.authMode);
  const rss = numberOr(status.processMemory?.rssBytes);
  const sessions = numberOr(status.sessions?.count);
  const tasks = numberOr(status.tasks?.total);
  const degraded = strings(status.degradedPlugins);
  return [
    ["gateway", `${version}${uptime === undefined ? "" : `, up ${duration(uptime)}`}`],
    ...row(
      "listening",
      host === undefined || port === undefined ? undefined : `${host}:${port}${auth ? ` (auth ${auth})` : ""}`,
    ),
    ...row("control ui", controlUi),
    ...row("tls", stringOr(status.tls?.fingerprintSha256) && `certificate SHA-256 ${status.tls?.fingerprintSha256}`),
    ...row("connections", numberOr(status.connections?.total)?.toString()),
    ...row("methods", numberOr(status.methods)?.toString()),
    ...row("memory", rss === undefined ? undefined : `${megabytes(rss)} RSS`),
    ...row("sessions", sessions?.toString()),
    ...row("tasks", tasks === undefined ? undefined : `${tasks} (${numberOr(status.tasks?.active) ?? 0} active)`),
    ...row("degraded plugins", degraded.length > 0 ? degraded.join(", ") : undefined),
    ...row("state dir", stringOr(status.stateDir)),
    ...row("config", stringOr(status.configPath)),
    ...exposureRows(status.exposure),
  ];
}

export const statusCommand: Command = {
  name: "status",
  scopes: ["operator.read"],
  summary: "a one-screen summary of the running gateway",
  usage: "gateway status [--fleet] [--json]",
  options: {
    fleet: { value: false, description: "the instances of the fleet (fleet.enabled) and the accounts each runs" },
  },
  async run({ connect, flags, global, io, localConfig }) {
    const client = await connect();
    try {
      if (flags.fleet === true) return await printFleet(client, global.json === true, io);
      const status = await withSpinner(io, "asking the gateway", client.request("status"));
      if (global.json) {
        printJson(io, status);
        return 0;
      }
      const ui = controlUiUrl(resolveConnection(global, io, localConfig), localConfig());
      io.stdout(`${table([...statusRows(status, ui), ...(await fleetRows(client))])}\n`);
      const warnings = strings(status.warnings);
      if (warnings.length > 0) io.stdout(`\nwhat is missing:\n${warnings.map((line) => `  - ${line}`).join("\n")}\n`);
      return 0;
    } finally {
      client.close();
    }
  },
};

/**
 * What an instance runs, from its leases: accounts by name (`channel:telegram:default` → `telegram:default`), the
 * scheduler as `cron`, and its sessions counted (one lease each while they run and a little after).
 */
function runsLabel(leases: readonly string[]): string | undefined {
  const sessions = leases.filter((lease) => lease.startsWith("session:")).length;
  const named = leases.filter((lease) => !lease.startsWith("session:")).map((lease) => lease.replace(/^channel:/, ""));
  const parts = [...named, ...(sessions > 0 ? [`${sessions} session${sessions === 1 ? "" : "s"}`] : [])];
  return parts.length > 0 ? parts.join(", ") : undefined;
}

/** One row on the fleet this gateway is part of; none when it runs alone (or is not ours: no `fleet.status`). */
async function fleetRows(client: GatewayClient): Promise<string[][]> {
  const fleet = await client.request("fleet.status").catch(() => undefined);
  if (!fleet?.enabled) return [];
  const owns = fleet.members.find((member) => member.id === fleet.self)?.owns ?? [];
  const others = fleet.members.filter((member) => member.id !== fleet.self).map((member) => member.id);
  return [
    [
      "fleet",
      `instance ${fleet.self}${others.length > 0 ? ` with ${others.join(", ")}` : ", alone so far"}; runs ${
        runsLabel(owns) ?? "nothing (standing by)"
      } (gateway status --fleet)`,
    ],
  ];
}

async function printFleet(client: GatewayClient, json: boolean, io: CommandContext["io"]): Promise<number> {
  const fleet = await withSpinner(io, "asking the fleet", client.request("fleet.status"));
  if (!fleet.enabled && !json)
    throw new CliError(
      "this gateway runs alone, not in a fleet: set fleet.enabled: true and redis.url in the config of each instance (docs/scale-out.md)",
      ExitCode.failed,
    );
  if (json) {
    printJson(io, fleet);
    return 0;
  }
  const rows = fleet.members.map((member) => [
    `${member.id}${member.id === fleet.self ? " (this one)" : ""}`,
    member.url,
    `pid ${member.pid} on ${member.host}`,
    `up ${duration(Date.now() - member.startedAt)}`,
    runsLabel(member.owns) ?? "standing by",
  ]);
  io.stdout(`${table([["instance", "url", "process", "uptime", "runs"], ...rows])}\n`);
  io.stdout(
    `\n${fleet.members.length} instance(s); an instance that dies hands its accounts on within ${fleet.leaseMs} ms\n`,
  );
  return 0;
}
