import { CliError, type Command, ExitCode } from "../context.js";
import { duration, printJson, table } from "../output.js";

const USAGE = "gateway sessions list [--active <minutes>] | show <key> [--limit N] | reset <key>  [--json]";

export const sessionsCommand: Command = {
  name: "sessions",
  summary: "list the agent's sessions, show one's messages, or start one over",
  usage: USAGE,
  options: {
    active: { value: true, description: "list: only sessions active in the last N minutes" },
    limit: { value: true, description: "show: how many messages (default 20)" },
  },
  async run({ args, flags, connect, global, io }) {
    const [action = "list", key] = args;
    if (action !== "list" && !key)
      throw new CliError(`sessions ${action} needs a session key: ${USAGE}`, ExitCode.usage);
    const client = await connect();
    try {
      if (action === "list") {
        const result = await client.request("sessions.list", {
          ...(typeof flags.active === "string" ? { activeMinutes: Number(flags.active) } : {}),
        });
        if (global.json) printJson(io, result);
        else if (result.sessions.length === 0) io.stdout("no sessions yet — `gateway chat hello` starts one\n");
        else {
          const rows = result.sessions.map((session) => [
            session.key,
            `${duration(Date.now() - session.updatedAt)} ago`,
            `${session.totalTokens ?? 0} tokens`,
            session.origin ? [session.origin.channel, session.origin.peer].filter(Boolean).join(":") : "",
          ]);
          io.stdout(`${table([["SESSION", "ACTIVE", "USAGE", "ORIGIN"], ...rows])}\n`);
        }
        return ExitCode.ok;
      }
      if (action === "show") {
        const limit = typeof flags.limit === "string" ? Number(flags.limit) : 20;
        const history = await client.request("chat.history", { sessionKey: key!, limit });
        if (global.json) printJson(io, history);
        else if (history.messages.length === 0) io.stdout(`${key}: no messages\n`);
        else
          for (const message of history.messages)
            io.stdout(
              `${new Date(message.ts).toISOString().slice(0, 16).replace("T", " ")}  ${message.role.padEnd(9)} ${message.text}\n`,
            );
        return ExitCode.ok;
      }
      if (action === "reset") {
        const result = await client.request("sessions.reset", { key: key! });
        if (global.json) printJson(io, result);
        else io.stdout(`✔ ${key} starts over (new session ${result.sessionId}; the old transcript is kept)\n`);
        return ExitCode.ok;
      }
      throw new CliError(`unknown action "${action}": ${USAGE}`, ExitCode.usage);
    } finally {
      client.close();
    }
  },
};
