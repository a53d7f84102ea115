import { CliError, type Command, ExitCode } from "../context.js";
import { followRun } from "../follow-run.js";
import { printJson } from "../output.js";

export const agentCommand: Command = {
  name: "agent",
  summary: "run one agent turn (optionally delivering the reply to a channel)",
  usage:
    "gateway agent --message <text> [--session <key>] [--deliver --channel <id> --to <peer> [--account <id>]] [--json]",
  options: {
    message: { value: true, description: "what to ask" },
    session: { value: true, description: "the session (default: the main session)" },
    deliver: { value: false, description: "send the reply to --channel/--to as well" },
    channel: { value: true, description: "the channel to deliver to (telegram, whatsapp…)" },
    to: { value: true, description: "the peer (chat id, phone number…) to deliver to" },
    account: { value: true, description: "the channel account (default: the channel's default)" },
  },
  async run({ flags, connect, global, io }) {
    if (typeof flags.message !== "string" || !flags.message.trim())
      throw new CliError('--message is required: gateway agent --message "what\'s on my calendar?"', ExitCode.usage);
    if (flags.deliver && typeof flags.channel !== "string")
      throw new CliError("--deliver needs --channel (and usually --to)", ExitCode.usage);
    const client = await connect();
    try {
      let streamed = "";
      const run = followRun(client, (delta) => {
        if (global.json) return;
        streamed += delta;
        io.stdout(delta);
      });
      const result = await client.agent(
        {
          message: flags.message,
          ...(typeof flags.session === "string" ? { sessionKey: flags.session } : {}),
          ...(flags.deliver ? { deliver: true } : {}),
          ...(typeof flags.channel === "string" ? { channel: flags.channel } : {}),
          ...(typeof flags.to === "string" ? { to: flags.to } : {}),
          ...(typeof flags.account === "string" ? { accountId: flags.account } : {}),
        },
        { timeoutMs: 3_600_000, onAccepted: (accepted) => run.track(accepted.runId) },
      );
      if (global.json) printJson(io, result);
      else {
        // The reply streamed as it came; the summary fills in when the events were missed (a reconnect).
        await Promise.race([run.done, new Promise((resolve) => setTimeout(resolve, 100))]);
        if (!streamed && result.summary) io.stdout(result.summary);
        io.stdout("\n");
        if (result.status !== "ok") io.stderr(`✖ the run ${result.status}${result.error ? `: ${result.error}` : ""}\n`);
      }
      return result.status === "ok" ? ExitCode.ok : ExitCode.failed;
    } finally {
      client.close();
    }
  },
};
