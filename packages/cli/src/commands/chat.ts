import { join } from "node:path";
import { createInterface } from "node:readline";
import type { GatewayClient } from "@gateway/client";
import { type CliIo, type Command, ExitCode } from "../context.js";
import { followRun, type RunEnd } from "../follow-run.js";
import { LineEditor } from "../line-editor.js";

const MAIN = "agent:main:main";

const HELP = `local commands (never sent to the agent):
  /help            this list
  /new             start the session over (the old transcript is kept)
  /abort           stop the reply that is streaming (Ctrl-C does too)
  /session <key>   talk in another session
  /quit            leave (Ctrl-D does too)
keys: arrows and Ctrl-A/E/U/W edit, Up/Down walk the history, Ctrl-R searches it; a pasted block is one message
`;

/** How the reply is shown: streamed text, one JSON object at the end, or one JSON object per event. */
type Output = "text" | "json" | "json-stream";

/** One exchange: send a message, stream the reply, and say how it ended. */
function exchange(client: GatewayClient, io: CliIo, sessionKey: string, message: string, output: Output) {
  const started = Date.now();
  const run = followRun(client, (delta) => {
    if (output === "text") io.stdout(delta);
    else if (output === "json-stream") io.stdout(`${JSON.stringify({ type: "delta", text: delta })}\n`);
  });
  const done = (async (): Promise<RunEnd> => {
    const sent = await client.request("chat.send", { sessionKey, message });
    // Deltas that came before the answer are replayed by track(), after the start.
    if (output === "json-stream") io.stdout(`${JSON.stringify({ type: "start", runId: sent.runId, sessionKey })}\n`);
    run.track(sent.runId);
    const end = await run.done;
    const summary = {
      runId: sent.runId,
      sessionKey,
      state: end.state,
      text: end.text,
      ...(end.error ? { error: end.error } : {}),
      durationMs: Date.now() - started,
    };
    if (output === "json") io.stdout(`${JSON.stringify(summary, null, 2)}\n`);
    else if (output === "json-stream") io.stdout(`${JSON.stringify({ type: "end", ...summary })}\n`);
    else {
      // End the streamed reply's line; an empty reply (a failed run) leaves no blank line before the error.
      if (end.text) io.stdout("\n");
      if (end.state === "aborted") io.stderr("(aborted)\n");
      if (end.state === "error") io.stderr(`✖ ${end.error}\n`);
    }
    return end;
  })();
  return {
    done,
    abort() {
      if (run.runId) void client.request("chat.abort", { sessionKey, runId: run.runId }).catch(() => {});
    },
  };
}

/** The interactive session in a terminal: a line editor, local commands, and a reply streaming under the prompt. */
async function interactive(client: GatewayClient, io: CliIo, stateDir: string, initialKey: string): Promise<number> {
  let sessionKey = initialKey;
  const output = io.terminal ?? process.stdout;
  const editor = new LineEditor({
    input: io.stdin ?? process.stdin,
    output,
    historyFile: join(stateDir, "chat-history"),
  });
  io.stderr(`chat with ${sessionKey} — /help lists the commands, Ctrl-C stops a reply, Ctrl-D leaves\n`);
  // One read of the editor is outstanding at a time; it may resolve while a reply streams.
  let reading: Promise<string | undefined> | undefined;
  const nextLine = () => {
    reading ??= editor.next().finally(() => {
      reading = undefined;
    });
    return reading;
  };
  editor.prompt();
  try {
    for (;;) {
      const line = await nextLine();
      if (line === undefined) break;
      const message = line.trim();
      const [command, ...rest] = message.split(/\s+/);
      if (command === "/quit" || command === "/exit") break;
      if (command === "/help") io.stdout(HELP);
      else if (command === "/abort") io.stdout("(nothing is running)\n");
      else if (command === "/session") {
        if (rest[0]) {
          sessionKey = rest[0];
          io.stdout(`now in ${sessionKey}\n`);
        } else io.stdout(`in ${sessionKey} (/session <key> changes it)\n`);
      } else if (command === "/new") {
        const result = await client.request("sessions.reset", { key: sessionKey });
        io.stdout(`${sessionKey} starts over (session ${result.sessionId}; the old transcript is kept)\n`);
      } else if (/^\/[a-z]+$/.test(command ?? "") && rest.length === 0) {
        io.stdout(`unknown command ${command} (/help lists them; start a message with // to send a slash)\n`);
      } else if (message) {
        const run = exchange(client, io, sessionKey, message.startsWith("//") ? message.slice(1) : message, "text");
        editor.onInterrupt = run.abort;
        let finished = false;
        const ended = run.done.then(
          () => {
            finished = true;
          },
          (error: Error) => {
            finished = true;
            io.stderr(`✖ ${error.message}\n`);
          },
        );
        // While the reply streams, /abort stops it; other lines wait for the prompt.
        while (!finished) {
          const typed = await Promise.race([ended.then(() => null), nextLine()]);
          if (typed === null) break;
          if (typed === undefined) {
            run.abort();
            await ended;
            return ExitCode.ok;
          }
          if (typed.trim() === "/abort") run.abort();
          else if (typed.trim())
            io.stderr("(a reply is streaming: /abort or Ctrl-C stops it; send that again after)\n");
        }
        editor.onInterrupt = undefined;
      }
      editor.prompt();
    }
  } finally {
    editor.close();
  }
  return ExitCode.ok;
}

export const chatCommand: Command = {
  name: "chat",
  summary: "talk to the agent: one message, or an interactive session when none is given",
  usage: "gateway chat [--session <key>] [--json [--stream]] [message…]",
  options: {
    session: { value: true, description: `the session (default ${MAIN})` },
    stream: { value: false, description: "with --json: one JSON object per event (start, delta…, end)" },
  },
  async run({ args, flags, connect, global, io, paths }) {
    const sessionKey = typeof flags.session === "string" ? flags.session : MAIN;
    const client = await connect();
    const output: Output = global.json ? (flags.stream ? "json-stream" : "json") : "text";
    try {
      if (args.length > 0) {
        const run = exchange(client, io, sessionKey, args.join(" "), output);
        const onInterrupt = () => run.abort();
        process.on("SIGINT", onInterrupt);
        try {
          const end = await run.done;
          return end.state === "final" ? ExitCode.ok : ExitCode.failed;
        } finally {
          process.off("SIGINT", onInterrupt);
        }
      }
      const input = io.stdin ?? process.stdin;
      if ((input as { isTTY?: boolean }).isTTY && io.isTty)
        return await interactive(client, io, paths.stateDir, sessionKey);
      // Piped input: a line is a message, nothing is echoed or edited.
      const lines = createInterface({ input, terminal: false });
      for await (const line of lines) {
        const message = line.trim();
        if (message === "/exit" || message === "/quit") break;
        if (message) await exchange(client, io, sessionKey, message, output).done;
      }
      return ExitCode.ok;
    } finally {
      client.close();
    }
  },
};
