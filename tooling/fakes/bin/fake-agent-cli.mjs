#!/usr/bin/env node
// A stand-in for agent CLIs (pi, claude, codex) in tests: it accepts each one's flags as the gateway's presets pass
// them, answers in that CLI's output format by echoing the prompt, and keeps a session id across turns.
// FAKE_AGENT_DELAY_MS slows each word (abort, timeout); a prompt containing "FAIL" exits 3 with a message on stderr.
import { randomUUID } from "node:crypto";

const args = process.argv.slice(2);
const flag = (name) => {
  const index = args.indexOf(name);
  return index >= 0 ? args[index + 1] : undefined;
};
const style = args.includes("--output-format")
  ? "claude"
  : args[0] === "exec"
    ? "codex"
    : args.includes("--mode")
      ? "pi"
      : "text";
let prompt = args.at(-1) ?? "";
if (args.includes("-") || process.env.FAKE_AGENT_STDIN === "1") {
  prompt = "";
  for await (const chunk of process.stdin) prompt += chunk;
}
const delay = Number(process.env.FAKE_AGENT_DELAY_MS ?? 0);
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
const out = (value) => process.stdout.write(`${JSON.stringify(value)}\n`);

if (prompt.includes("FAIL")) {
  process.stderr.write("fake agent: the model refused (FAIL in the prompt)\n");
  process.exit(3);
}
const resumed = flag("--resume") ?? (args[1] === "resume" ? args[2] : undefined);
const sessionId = resumed ?? randomUUID();
const words = `${resumed ? `[resumed ${resumed.slice(0, 8)}] ` : ""}${prompt}`.split(/(?<=\s)/);
let text = "";
if (style === "codex") out({ type: "thread.started", thread_id: sessionId });
for (const word of words) {
  if (delay) await sleep(delay);
  text += word;
  if (style === "pi") out({ type: "message_update", assistantMessageEvent: { type: "text_delta", delta: word } });
  else if (style === "text") process.stdout.write(word);
}
if (style === "pi") {
  out({
    type: "message_end",
    message: {
      role: "assistant",
      content: [{ type: "text", text }],
      stopReason: "stop",
      usage: { input: 3, output: words.length },
    },
  });
  out({ type: "agent_end", messages: [] });
} else if (style === "codex") {
  out({ type: "item.completed", item: { id: "item_0", type: "agent_message", text } });
  out({ type: "turn.completed", usage: { input_tokens: 3, output_tokens: words.length } });
} else if (style === "claude") {
  out({
    type: "result",
    subtype: "success",
    is_error: false,
    result: text,
    session_id: sessionId,
    usage: { input_tokens: 3, output_tokens: words.length },
  });
}
