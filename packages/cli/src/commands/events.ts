import { type Command, ExitCode } from "../context.js";

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
    let finish: (code: number) => void = () => {};
    const done = new Promise<number>((resolve) => {
      finish = resolve;
    });
    const client = await connect({
      onLost() {
        io.stderr("gateway stopped\n");
        finish(ExitCode.unreachable);
      },
    });
    // The gateway sends presence changes only to clients that show presence; asking for the list once makes this
    // one of them.
    if (!wanted || wanted.has("presence")) await client.request("system-presence", {});
    let seen = 0;
    const onInterrupt = () => finish(ExitCode.ok);
    process.once("SIGINT", onInterrupt);
    // Keeps the process alive while waiting: an open socket alone may not (and a settled-never promise would end
    // the program with "unsettled top-level await").
    const keepAlive = setInterval(() => {}, 60_000);
    client.on("*", (payload, event) => {
      if (wanted && !wanted.has(event)) return;
      seen++;
      if (global.json) io.stdout(`${JSON.stringify({ event, payload })}\n`);
      else io.stdout(`${new Date().toISOString().slice(11, 23)}  ${event.padEnd(18)} ${JSON.stringify(payload)}\n`);
      if (seen >= limit) finish(ExitCode.ok);
    });
    try {
      return await done;
    } finally {
      clearInterval(keepAlive);
      process.off("SIGINT", onInterrupt);
      client.close();
    }
  },
};
