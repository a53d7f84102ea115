import type { GatewayClient } from "@gateway/client";
import { CliError, type Command, ExitCode } from "../context.js";
import { duration, printJson, table } from "../output.js";

const USAGE =
  "gateway devices list | approve [<requestId> | --latest] | reject <requestId> | remove <deviceId> | rotate <deviceId> [--role operator|node] [--scopes a,b] | revoke <deviceId> [--role operator|node]  [--json]";

const short = (id: string) => (id.length > 16 ? `${id.slice(0, 12)}…` : id);

async function list(client: GatewayClient, json: boolean, io: { stdout(text: string): void }): Promise<number> {
  const { pending, paired } = await client.request("device.pair.list");
  if (json) {
    io.stdout(`${JSON.stringify({ pending, paired }, null, 2)}\n`);
    return ExitCode.ok;
  }
  if (pending.length === 0) io.stdout("no devices waiting for approval\n");
  else {
    const rows = pending.map((request) => [
      request.requestId,
      short(request.deviceId),
      `${request.clientId ?? "?"}/${request.platform ?? "?"}`,
      request.role ?? "operator",
      (request.scopes ?? []).join(",") || "-",
      request.remoteIp ?? "-",
      `${duration(Date.now() - request.ts)} ago`,
    ]);
    io.stdout(`${table([["REQUEST", "DEVICE", "CLIENT", "ROLE", "SCOPES", "FROM", "ASKED"], ...rows])}\n`);
    io.stdout("approve one with: gateway devices approve <request> (or --latest)\n");
  }
  if (paired.length > 0) {
    const rows = paired.map((device) => [
      short(device.deviceId),
      device.displayName ?? device.platform ?? "-",
      device.roles.join(","),
      device.scopes.join(",") || "-",
      device.lastSeenAtMs ? `${duration(Date.now() - device.lastSeenAtMs)} ago` : "never",
    ]);
    io.stdout(`\n${table([["PAIRED DEVICE", "NAME", "ROLES", "SCOPES", "SEEN"], ...rows])}\n`);
  }
  return ExitCode.ok;
}

/** A device id as typed (a unique prefix is enough, as `list` shows them shortened). */
async function resolveDevice(client: GatewayClient, typed: string): Promise<string> {
  const wanted = typed.replace(/…$/, "");
  const { paired } = await client.request("device.pair.list");
  const matches = paired.filter((device) => device.deviceId.startsWith(wanted));
  if (matches.length === 1) return matches[0]!.deviceId;
  if (matches.length === 0) throw new CliError(`no paired device ${typed}: see gateway devices list`);
  throw new CliError(`${typed} matches ${matches.length} devices: type more of its id`, ExitCode.usage);
}

export const devicesCommand: Command = {
  name: "devices",
  scopes: ["operator.pairing"],
  summary: "devices that connect with an identity (apps, nodes, UIs): approve, reject, remove, rotate or revoke tokens",
  usage: USAGE,
  options: {
    latest: { value: false, description: "approve: the most recent pending request" },
    role: { value: true, description: "rotate/revoke: the token's role (default operator)" },
    scopes: { value: true, description: "rotate: narrow the new token to these scopes (comma-separated)" },
  },
  async run({ args, flags, connect, global, io }) {
    const [action = "list", target] = args;
    const actions = ["list", "approve", "reject", "remove", "rotate", "revoke"];
    if (!actions.includes(action)) throw new CliError(`unknown action "${action}": ${USAGE}`, ExitCode.usage);
    if (action === "approve" && !target && flags.latest !== true)
      throw new CliError(`devices approve needs a request id or --latest: ${USAGE}`, ExitCode.usage);
    if (action !== "list" && action !== "approve" && !target)
      throw new CliError(`devices ${action} needs an id: ${USAGE}`, ExitCode.usage);
    const role = typeof flags.role === "string" ? flags.role : "operator";
    const client = await connect();
    try {
      const done = (value: unknown, line: string) => {
        if (global.json) printJson(io, value);
        else io.stdout(`${line}\n`);
        return ExitCode.ok;
      };
      switch (action) {
        case "list":
          return await list(client, global.json, io);
        case "approve": {
          let requestId = target;
          if (!requestId) {
            const { pending } = await client.request("device.pair.list");
            const latest = [...pending].sort((a, b) => b.ts - a.ts)[0];
            if (!latest) throw new CliError("no devices waiting for approval");
            requestId = latest.requestId;
          }
          const result = await client.request("device.pair.approve", { requestId });
          return done(result, `✔ approved device ${short(result.deviceId)}: it connects now with what it asked for`);
        }
        case "reject": {
          const result = await client.request("device.pair.reject", { requestId: target! });
          return done(result, `✔ rejected device ${short(result.deviceId)}`);
        }
        case "remove": {
          const deviceId = await resolveDevice(client, target!);
          const result = await client.request("device.pair.remove", { deviceId });
          return done(result, `✔ removed device ${short(deviceId)}: its tokens no longer work, it must pair again`);
        }
        case "rotate": {
          const deviceId = await resolveDevice(client, target!);
          const scopes = typeof flags.scopes === "string" ? flags.scopes.split(",").filter(Boolean) : undefined;
          const result = await client.request("device.token.rotate", { deviceId, role, ...(scopes ? { scopes } : {}) });
          return done(
            result,
            `✔ new ${role} token for ${short(deviceId)} (the old one stopped working; its connections were closed):\n${result.token}`,
          );
        }
        default: {
          const deviceId = await resolveDevice(client, target!);
          const result = await client.request("device.token.revoke", { deviceId, role });
          return done(
            result,
            result.revoked
              ? `✔ revoked the ${role} token of ${short(deviceId)}; its connections were closed`
              : `${short(deviceId)} had no ${role} token`,
          );
        }
      }
    } finally {
      client.close();
    }
  },
};
