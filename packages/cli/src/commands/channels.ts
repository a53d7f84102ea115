import { CliError, type Command, ExitCode } from "../context.js";
import { duration, printJson, table } from "../output.js";

const CHANNELS_USAGE =
  "gateway channels status [--probe] [--channel <id>] | login [whatsapp] [--account <id>] [--pairing-code <+phone>] | logout <channel> [--account <id>]  [--json]";

const ago = (ms: number | null | undefined) => (ms ? `${duration(Date.now() - ms)} ago` : "never");

export const channelsCommand: Command = {
  name: "channels",
  summary: "the messaging accounts: connected, reconnecting or stopped (and why); log in (WhatsApp QR) or out",
  usage: CHANNELS_USAGE,
  options: {
    probe: { value: false, description: "status: ask each account's platform now" },
    channel: { value: true, description: "status: only this channel" },
    account: { value: true, description: "login/logout: the account (default: the channel's default account)" },
    "pairing-code": {
      value: true,
      description: "login: link with a code typed on the phone (+15551234567) instead of a QR",
    },
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
      if (action === "login") {
        if (channel && channel !== "whatsapp")
          throw new CliError(
            `channels login is for WhatsApp (QR or pairing code); ${channel} logs in with its token`,
            ExitCode.usage,
          );
        return await login(
          client,
          io,
          {
            ...(typeof flags.account === "string" ? { accountId: flags.account } : {}),
            ...(typeof flags["pairing-code"] === "string" ? { phoneNumber: flags["pairing-code"] } : {}),
          },
          global.json === true,
        );
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

/**
 * Link a WhatsApp account: show the QR (rendered in the terminal) or the pairing code, and wait — showing each fresh
 * QR — until the phone has linked it (the gateway then restarts the account on its new login).
 */
async function login(
  client: Awaited<ReturnType<Parameters<Command["run"]>[0]["connect"]>>,
  io: Parameters<Command["run"]>[0]["io"],
  params: { accountId?: string; phoneNumber?: string },
  json: boolean,
): Promise<number> {
  const { renderQrTerminal } = await import("@gateway/channel-whatsapp/qr");
  const show = (state: { message: string; qr?: string; pairingCode?: string }) => {
    if (json) return printJson(io, state);
    if (state.pairingCode)
      io.stdout(
        `Pairing code: ${state.pairingCode}\n  On the phone: WhatsApp → Linked devices → Link a device → Link with phone number instead\n`,
      );
    else if (state.qr)
      io.stdout(
        `${renderQrTerminal(state.qr)}\n  On the phone: WhatsApp → Linked devices → Link a device, and scan the code\n`,
      );
    io.stdout(`${state.message}\n`);
  };
  let state = await client.request("web.login.start", { ...params, timeoutMs: 60_000 }, { timeoutMs: 180_000 });
  show(state);
  const deadline = Date.now() + 5 * 60_000;
  while (!state.connected && Date.now() < deadline) {
    const previous = state.qr;
    state = await client.request(
      "web.login.wait",
      { ...(params.accountId ? { accountId: params.accountId } : {}), timeoutMs: 60_000 },
      { timeoutMs: 300_000 },
    );
    if (state.connected || state.qr !== previous) show(state);
  }
  if (!state.connected)
    throw new CliError("the login was not completed in 5 minutes: run gateway channels login again");
  if (!json) io.stdout("✔ linked: the account starts on its new login (gateway channels status)\n");
  return ExitCode.ok;
}

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
