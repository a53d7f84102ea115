import { CliError, type Command, ExitCode } from "../context.js";
import { duration, printJson, table } from "../output.js";

const CHANNELS_USAGE =
  "gateway channels status [--probe] [--channel <id>] | logout <channel> [--account <id>]  [--json]";

const ago = (ms: number | null | undefined) => (ms ? `${duration(Date.now() - ms)} ago` : "never");

export const channelsCommand: Command = {
  name: "channels",
  summary: "the messaging accounts: connected, reconnecting or stopped (and why); log one out",
  usage: CHANNELS_USAGE,
  options: {
    probe: { value: false, description: "status: ask each account's platform now" },
    channel: { value: true, description: "status: only this channel" },
    account: { value: true, description: "logout: the account (default: the channel's default account)" },
  },
  async run({ args, flags, connect, global, io }) {
    const [action = "status", channel] = args;
    const client = await connect();
    try {
      if (action === "status") {
        const result = await client.request("channels.status", {
          ...(flags.probe === true ? { probe: true } : {}),
          ...(typeof flags.channel === "string" ? { channel: flags.channel } : {}),
        });
        if (global.json) {
          printJson(io, result);
          return ExitCode.ok;
        }
        const rows = result.channelOrder.flatMap((id) =>
          (result.channelAccounts[id] ?? []).map((account) => [
            `${id}:${account.accountId}`,
            account.healthState ?? (account.connected ? "connected" : "stopped"),
            account.mode ?? "",
            `in ${ago(account.lastInboundAt)}, out ${ago(account.lastOutboundAt)}`,
            account.probe ? `probe ${(account.probe as { ok: boolean }).ok ? "ok" : "FAILED"}` : "",
            account.lastError ?? "",
          ]),
        );
        if (rows.length === 0) io.stdout("no channels configured — set channels.telegram.botToken in the config\n");
        else io.stdout(`${table([["ACCOUNT", "STATE", "MODE", "TRAFFIC", "PROBE", "LAST ERROR"], ...rows])}\n`);
        for (const warning of result.warnings ?? []) io.stdout(`! ${warning}\n`);
        const broken = result.channelOrder.some((id) =>
          (result.channelAccounts[id] ?? []).some((account) => account.healthState === "fatal"),
        );
        return broken ? ExitCode.failed : ExitCode.ok;
      }
      if (action === "logout") {
        if (!channel) throw new CliError(`channels logout needs a channel: ${CHANNELS_USAGE}`, ExitCode.usage);
        const result = await client.request("channels.logout", {
          channel,
          ...(typeof flags.account === "string" ? { accountId: flags.account } : {}),
        });
        if (global.json) printJson(io, result);
        else
          io.stdout(
            result.cleared
              ? `✔ ${result.channel}:${result.accountId} logged out (stored credentials removed)\n`
              : `${result.channel}:${result.accountId} keeps no login to clear (remove its token from the config instead)\n`,
          );
        return ExitCode.ok;
      }
      throw new CliError(`unknown action "${action}": ${CHANNELS_USAGE}`, ExitCode.usage);
    } finally {
      client.close();
    }
  },
};

const PAIRING_USAGE =
  "gateway pairing list [<channel>] | approve <channel> <code> [--account <id>] [--notify]  [--json]";

export const pairingCommand: Command = {
  name: "pairing",
  summary: "who asked to talk to the agent (DM pairing codes), and approve them",
  usage: PAIRING_USAGE,
  options: {
    account: { value: true, description: "approve: the account the code belongs to (found from the code otherwise)" },
    notify: { value: false, description: "approve: tell the sender they are approved" },
  },
  async run({ args, flags, connect, global, io }) {
    const [action = "list", channel, code] = args;
    if (action !== "list" && action !== "approve")
      throw new CliError(`unknown action "${action}": ${PAIRING_USAGE}`, ExitCode.usage);
    if (action === "approve" && (!channel || !code))
      throw new CliError(`pairing approve needs a channel and a code: ${PAIRING_USAGE}`, ExitCode.usage);
    const client = await connect();
    try {
      const list = await client.request("channels.pairing.list", channel ? { channel } : {});
      if (action === "list") {
        if (global.json) {
          printJson(io, list);
          return ExitCode.ok;
        }
        if (list.requests.length === 0) {
          io.stdout(`no pending pairing requests${channel ? ` for ${channel}` : ""}\n`);
          return ExitCode.ok;
        }
        const rows = list.requests.map((request) => [
          request.requestId,
          `${request.channel}:${request.accountId}`,
          `${request.senderLabel} (${request.senderId})`,
          `${duration(Date.now() - Date.parse(request.createdAt))} ago`,
          `in ${duration(Date.parse(request.expiresAt) - Date.now())}`,
        ]);
        io.stdout(`${table([["CODE", "ACCOUNT", "SENDER", "ASKED", "EXPIRES"], ...rows])}\n`);
        io.stdout(`approve one with: gateway pairing approve <channel> <code>\n`);
        return ExitCode.ok;
      }
      const wanted = code!.replace(/\s+/g, "").toUpperCase();
      const match = list.requests.find((request) => request.requestId === wanted);
      const accountId = typeof flags.account === "string" ? flags.account : (match?.accountId ?? "default");
      const result = await client.request("channels.pairing.approve", {
        channel: channel!,
        accountId,
        requestId: wanted,
        ...(flags.notify === true ? { notify: true } : {}),
      });
      if (global.json) printJson(io, result);
      else
        io.stdout(
          `✔ approved ${match ? `${match.senderLabel} (${result.senderId})` : result.senderId} on ${channel}:${accountId} — their next message reaches the agent${result.notification === "sent" ? " (told them)" : ""}\n`,
        );
      return ExitCode.ok;
    } finally {
      client.close();
    }
  },
};
