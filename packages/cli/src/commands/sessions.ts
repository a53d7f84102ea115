import { type ChatMessage, chatMessageText } from "@gateway/protocol";
import { connectIfRunning } from "../connection.js";
import { CliError, type Command, ExitCode } from "../context.js";
import { localHistory, localSessions, sayOffline } from "../local-state.js";
import { duration, printJson, table } from "../output.js";
import { didYouMean } from "../suggest.js";

const USAGE = "gateway sessions list [--active <minutes>] | show <key> [--limit N] | reset <key>  [--json]";

export const sessionsCommand: Command = {
  name: "sessions",
  summary: "list the agent's sessions, show one's messages, or start one over",
  usage: USAGE,
  options: {
    active: { value: true, description: "list: only sessions active in the last N minutes" },
    limit: { value: true, description: "show: how many messages (default 20)" },
  },
  async run(context) {
    const { args, flags, global, io } = context;
    const [action = "list", key] = args;
    if (!["list", "show", "reset"].includes(action))
      throw new CliError(
        `unknown action "${action}"${didYouMean(action, ["list", "show", "reset"])}: ${USAGE}`,
        ExitCode.usage,
      );
    if (action !== "list" && !key)
      throw new CliError(`sessions ${action} needs a session key: ${USAGE}`, ExitCode.usage);
    const client = await connectIfRunning(context);
    if (!client && action === "reset")
      throw new CliError("the gateway is not running: start it (gateway run) to reset a session", ExitCode.unreachable);
    if (!client) sayOffline(io, context.paths.stateDir);
    const activeMinutes = typeof flags.active === "string" ? Number(flags.active) : undefined;
    const offline = {
      list: () => {
        const all = localSessions(context.paths.stateDir);
        if (activeMinutes === undefined) return all;
        const sessions = all.sessions.filter((session) => Date.now() - session.updatedAt <= activeMinutes * 60_000);
        return { ...all, count: sessions.length, sessions };
      },
    };
    try {
      if (action === "list") {
        const result = client
          ? await client.request("sessions.list", { ...(activeMinutes !== undefined ? { activeMinutes } : {}) })
          : offline.list();
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
        const history = client
          ? await client.request("chat.history", { sessionKey: key!, limit })
          : localHistory(context.paths.stateDir, key!, limit);
        if (global.json) printJson(io, history);
        else if (history.messages.length === 0) io.stdout(`${key}: no messages\n`);
        else
          for (const message of history.messages)
            io.stdout(
              `${new Date(message.timestamp).toISOString().slice(0, 16).replace("T", " ")}  ${message.role.padEnd(10)} ${describeContent(message)}\n`,
            );
        return ExitCode.ok;
      }
      if (action === "reset") {
        const result = await client!.request("sessions.reset", { key: key! });
        if (global.json) printJson(io, result);
        else io.stdout(`✔ ${key} starts over (new session ${result.sessionId}; the old transcript is kept)\n`);
        return ExitCode.ok;
      }
      throw new CliError(`unknown action "${action}": ${USAGE}`, ExitCode.usage);
    } finally {
      client?.close();
    }
  },
};

/** A message's text, with its tool calls named (a tool's output is its text). */
function describeContent(message: ChatMessage): string {
  const calls = message.content
    .filter((block) => block.type === "toolCall")
    .map((block) => `[calls ${block.name}]`)
    .join(" ");
  return [calls, chatMessageText(message)].filter(Boolean).join(" ");
}
