import type { LogsTailResult } from "@gateway/protocol";
import type { Command } from "../context.js";

const LEVELS: Record<number, string> = { 10: "trace", 20: "debug", 30: "info", 40: "warn", 50: "error", 60: "fatal" };

/** A pino JSON line as `HH:MM:SS.mmm level message key=value…`. */
function pretty(line: string): string {
  try {
    const { level, time, msg, pid: _pid, hostname: _host, ...rest } = JSON.parse(line) as Record<string, unknown>;
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
  summary: "the gateway's log (--follow to keep reading)",
  usage: "gateway logs [--limit N] [--follow] [--json]",
  options: {
    limit: { value: true, description: "how many of the last lines (default 50)" },
    follow: { value: false, description: "keep printing new lines" },
  },
  async run({ flags, connect, global, io }) {
    const client = await connect();
    const print = (result: LogsTailResult) => {
      for (const line of result.lines) io.stdout(`${global.json ? line : pretty(line)}\n`);
    };
    try {
      let result = await client.request("logs.tail", {
        limit: typeof flags.limit === "string" ? Number(flags.limit) : 50,
      });
      print(result);
      if (!flags.follow) return 0;
      let stopped = false;
      process.once("SIGINT", () => {
        stopped = true;
      });
      while (!stopped) {
        await new Promise((resolve) => setTimeout(resolve, 1000));
        result = await client.request("logs.tail", { cursor: result.cursor });
        print(result);
      }
      return 0;
    } finally {
      client.close();
    }
  },
};
