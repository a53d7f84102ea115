import { createInterface } from "node:readline";
import type { GatewayClient } from "@gateway/client";
import { type CliIo, type Command, ExitCode } from "../context.js";
import { followRun, type RunEnd } from "../follow-run.js";

const MAIN = "agent:main:main";

/** Send one message and stream the reply; Ctrl-C aborts the run (not the program). */
async function exchange(client: GatewayClient, io: CliIo, sessionKey: string, message: string): Promise<RunEnd> {
  const run = followRun(client, (delta) => io.stdout(delta));
  const onInterrupt = () => {
    if (run.runId) void client.request("chat.abort", { sessionKey, runId: run.runId }).catch(() => {});
  };
  process.on("SIGINT", onInterrupt);
  try {
    const sent = await client.request("chat.send", { sessionKey, message });
    run.track(sent.runId);
    const end = await run.done;
    io.stdout("\n");
    if (end.state === "aborted") io.stderr("(aborted)\n");
    if (end.state === "error") io.stderr(`✖ ${end.error}\n`);
    return end;
  } finally {
    process.off("SIGINT", onInterrupt);
  }
}

export const chatCommand: Command = {
  name: "chat",
  summary: "talk to the agent: one message, or an interactive session when none is given",
  usage: "gateway chat [--session <key>] [message…]",
  options: { session: { value: true, description: `the session (default ${MAIN})` } },
  async run({ args, flags, connect, io }) {
    const sessionKey = typeof flags.session === "string" ? flags.session : MAIN;
    const client = await connect();
    try {
      if (args.length > 0) {
        const end = await exchange(client, io, sessionKey, args.join(" "));
        return end.state === "final" ? ExitCode.ok : ExitCode.failed;
      }
      // Interactive: a line is a message; Ctrl-C aborts a running reply, Ctrl-D (or /exit) leaves.
      const input = io.stdin ?? process.stdin;
      io.stderr(`chat with ${sessionKey} — Ctrl-C stops a reply, Ctrl-D or /exit leaves, /new starts over\n`);
      const lines = createInterface({ input, terminal: false });
      const prompt = () => io.isTty && io.stderr("› ");
      prompt();
      for await (const line of lines) {
        const message = line.trim();
        if (message === "/exit" || message === "/quit") break;
        if (message) await exchange(client, io, sessionKey, message);
        prompt();
      }
      return ExitCode.ok;
    } finally {
      client.close();
    }
  },
};
