import { randomUUID } from "node:crypto";
import { CliError, type Command, ExitCode } from "../context.js";
import { printJson } from "../output.js";

const USAGE = "gateway send --to <chat id> [--channel <id>] [--account <id>] [--thread <id>] <message…>  [--json]";

export const sendCommand: Command = {
  name: "send",
  summary: "send a message to a chat through a channel (long text is split for the platform)",
  usage: USAGE,
  options: {
    to: { value: true, description: "the chat id (a Telegram chat id, say)" },
    channel: { value: true, description: "the channel (default: the only one configured)" },
    account: { value: true, description: "the account (default: the channel's default account)" },
    thread: { value: true, description: "a topic or thread in the chat" },
  },
  async run({ args, flags, connect, global, io }) {
    const message = args.join(" ");
    if (typeof flags.to !== "string" || !message)
      throw new CliError(`send needs --to and a message: ${USAGE}`, ExitCode.usage);
    const client = await connect();
    try {
      const result = await client.request("send", {
        to: flags.to,
        message,
        ...(typeof flags.channel === "string" ? { channel: flags.channel } : {}),
        ...(typeof flags.account === "string" ? { accountId: flags.account } : {}),
        ...(typeof flags.thread === "string" ? { threadId: flags.thread } : {}),
        idempotencyKey: randomUUID(),
      });
      if (global.json) printJson(io, result);
      else
        io.stdout(
          `✔ sent to ${result.channel}:${result.accountId} ${result.to} (${result.messageIds?.length ?? 1} message${(result.messageIds?.length ?? 1) === 1 ? "" : "s"})\n`,
        );
      return ExitCode.ok;
    } finally {
      client.close();
    }
  },
};
