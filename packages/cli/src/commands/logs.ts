import type { LogsTailResult } from "@gateway/protocol";
import { connectIfRunning } from "../connection.js";
import type { Command } from "../context.js";
import { linesSince, logFile, sayOffline, tailLines } from "../local-state.js";

const LEVELS: Record<number, string> = { 10: "trace", 20: "debug", 30: "info", 40: "warn", 50: "error", 60: "fatal" };

/** A pino JSON line as `HH:MM:SS.mmm level message key=value…` (the reference's `message`/`_meta` from `logs.tail` left out). */
function pretty(line: string): string {
  try {
    const {
      level,
      time,
      msg,
      pid: _pid,
      hostname: _host,
      message: _message,
      _meta,
      ...rest
    } = JSON.parse(line) as Record<string, unknown>;
    const extras = Object.entries(rest)
      .map(([key, value]) => `${key}=${typeof value === "string" ? value : JSON.stringify(value)}`)
      .join(" ");
    const when = typeof time === "number" ? new Date(time).toISOString().slice(11, 23) : "";
    return `${when} ${(LEVELS[level as number] ?? String(level)).padEnd(5)} ${String(msg ?? "")}${extras ? ` ${extras}` : ""}`;
  } catch {
    return line;
  }
}

export const logsCommand: Command = {
  name: "logs",
  scopes: ["operator.read"],
  summary: "the gateway's log (--follow to keep reading)",
  usage: "gateway logs [--limit N] [--follow] [--json]",
  options: {
    limit: { value: true, description: "how many of the last lines (default 50)" },
    follow: { value: false, description: "keep printing new lines" },
  },
  async run(context) {
    const { flags, global, io } = context;
    const limit = typeof flags.limit === "string" ? Number(flags.limit) : 50;
    const print = (lines: readonly string[]) => {
      for (const line of lines) io.stdout(`${global.json ? line : pretty(line)}\n`);
    };
    let stopped = false;
    const wait = () => new Promise((resolve) => setTimeout(resolve, 1000));
    const client = await connectIfRunning(context);
    if (!client) {
      // No gateway: the log file it wrote is still here.
      const file = logFile(context.paths.stateDir, context.localConfig().config);
      sayOffline(io, context.paths.stateDir);
      let result = tailLines(file, limit);
      if (result.lines.length === 0) io.stderr(`(no log lines in ${file})\n`);
      print(result.lines);
      if (!flags.follow) return 0;
      process.once("SIGINT", () => {
        stopped = true;
      });
      while (!stopped) {
        await wait();
        result = linesSince(file, result.cursor);
        print(result.lines);
      }
      return 0;
    }
    try {
      let result: LogsTailResult = await client.request("logs.tail", { limit });
      print(result.lines);
      if (!flags.follow) return 0;
      process.once("SIGINT", () => {
        stopped = true;
      });
      while (!stopped) {
        await wait();
        result = await client.request("logs.tail", { cursor: result.cursor });
        print(result.lines);
      }
      return 0;
    } finally {
      client.close();
    }
  },
};
