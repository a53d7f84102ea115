import type { Command } from "../context.js";

export const eventsCommand: Command = {
  name: "events",
  summary: "print live events (Ctrl-C to stop)",
  usage: "gateway events [--filter tick,presence] [--count N] [--json]",
  options: {
    filter: { value: true, description: "comma-separated event names" },
    count: { value: true, description: "stop after N events" },
  },
  async run({ flags, connect, global, io }) {
    const wanted =
      typeof flags.filter === "string" ? new Set(flags.filter.split(",").map((name) => name.trim())) : undefined;
    const limit = typeof flags.count === "string" ? Number(flags.count) : Number.POSITIVE_INFINITY;
    const client = await connect();
    let seen = 0;
    await new Promise<void>((resolve) => {
      const finish = () => resolve();
      process.once("SIGINT", finish);
      client.on("*", (payload, event) => {
        if (wanted && !wanted.has(event)) return;
        seen++;
        if (global.json) io.stdout(`${JSON.stringify({ event, payload })}\n`);
        else io.stdout(`${new Date().toISOString().slice(11, 23)}  ${event.padEnd(18)} ${JSON.stringify(payload)}\n`);
        if (seen >= limit) {
          process.off("SIGINT", finish);
          resolve();
        }
      });
    });
    client.close();
    return 0;
  },
};
