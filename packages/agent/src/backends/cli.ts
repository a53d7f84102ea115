import { spawn } from "node:child_process";
import { existsSync, mkdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { writeFileAtomic } from "@gateway/state";
import type { AgentRunEvent, AgentRuntime, StopReason, Usage } from "../runtime.js";
import { childEnvironment } from "./child-environment.js";
import { EventChannel } from "./event-channel.js";

/** How to run an agent CLI for one turn. Placeholders in args: `{input}`, `{sessionId}`, `{sessionFile}`, `{cliSessionId}`. */
export interface CliBackendOptions {
  command: string;
  /** Arguments of a session's first turn. */
  args: readonly string[];
  /** Arguments of later turns, once the CLI's own session id is known (or its session file exists). */
  resumeArgs?: readonly string[];
  /** `jsonl`: events line by line (streamed); `json`: one object at exit; `text`: plain output (streamed). */
  output: "json" | "jsonl" | "text";
  /** `arg`: the prompt replaces `{input}`; `stdin`: the prompt is written to the child's stdin. */
  input: "arg" | "stdin";
  /** Where the CLI's per-session files and the session id map live. */
  dataDir: string;
  cwd: string;
  /** Variables this agent gets (provider keys go here); with the allowlisted basics of `parentEnv`, nothing else. */
  env?: Record<string, string>;
  /** Where PATH, HOME, locale… come from (the app passes its environment). @default {} */
  parentEnv?: Readonly<Record<string, string | undefined>>;
  /** @default 600000 */
  timeoutMs?: number;
}

/** A preset: the flags a CLI needs for a non-interactive, machine-readable turn. */
export type CliPreset = Pick<CliBackendOptions, "command" | "args" | "resumeArgs" | "output" | "input">;

/** The presets for pi, Claude Code and Codex. */
export const CLI_PRESETS: Readonly<Record<"pi" | "claude" | "codex", CliPreset>> = {
  pi: {
    command: "pi",
    args: ["--mode", "json", "-p", "--no-extensions", "--no-skills", "--session", "{sessionFile}", "{input}"],
    output: "jsonl",
    input: "arg",
  },
  claude: {
    command: "claude",
    args: ["-p", "--output-format", "json", "{input}"],
    resumeArgs: ["-p", "--output-format", "json", "--resume", "{cliSessionId}", "{input}"],
    output: "json",
    input: "arg",
  },
  codex: {
    command: "codex",
    args: ["exec", "--json", "{input}"],
    resumeArgs: ["exec", "resume", "{cliSessionId}", "--json", "{input}"],
    output: "jsonl",
    input: "arg",
  },
};

/** What one line (jsonl) or the whole output (json) of a CLI says, in the formats of pi, claude and codex. */
interface Parsed {
  delta?: string;
  /** A complete message (codex items, claude results): used when nothing was streamed. */
  message?: string;
  cliSessionId?: string;
  usage?: Usage;
  error?: string;
}

function parseRecord(record: Record<string, unknown>): Parsed {
  const type = record.type;
  const usage = (value: unknown): Usage | undefined => {
    const u = value as Record<string, number> | undefined;
    if (!u) return undefined;
    return { inputTokens: u.input_tokens ?? u.input ?? 0, outputTokens: u.output_tokens ?? u.output ?? 0 };
  };
  if (type === "message_update") {
    const event = record.assistantMessageEvent as { type?: string; delta?: string } | undefined;
    return event?.type === "text_delta" && event.delta ? { delta: event.delta } : {};
  }
  if (type === "message_end") {
    const message = record.message as { role?: string; stopReason?: string; errorMessage?: string; usage?: unknown };
    if (message?.role !== "assistant") return {};
    const parsed: Parsed = {};
    const used = usage(message.usage);
    if (used) parsed.usage = used;
    if (message.stopReason === "error") parsed.error = message.errorMessage ?? "the model call failed";
    return parsed;
  }
  if (type === "thread.started" && typeof record.thread_id === "string") return { cliSessionId: record.thread_id };
  if (type === "item.completed") {
    const item = record.item as { type?: string; text?: string } | undefined;
    return item?.type === "agent_message" && item.text ? { message: item.text } : {};
  }
  if (type === "turn.completed") {
    const used = usage(record.usage);
    return used ? { usage: used } : {};
  }
  if (type === "turn.failed" || type === "error") {
    const error = record.error as { message?: string } | string | undefined;
    return { error: typeof error === "string" ? error : (error?.message ?? String(record.message ?? "failed")) };
  }
  // claude (json and stream-json) and anything shaped like it
  const parsed: Parsed = {};
  if (typeof record.session_id === "string") parsed.cliSessionId = record.session_id;
  if (type === "assistant") {
    const content = (record.message as { content?: Array<{ type: string; text?: string }> } | undefined)?.content;
    const text = content?.map((part) => (part.type === "text" ? (part.text ?? "") : "")).join("");
    if (text) parsed.delta = text;
  }
  if (type === "result" || type === undefined) {
    const text = record.result ?? record.text ?? record.message;
    if (typeof text === "string") parsed.message = text;
    const used = usage(record.usage);
    if (used) parsed.usage = used;
    if (record.is_error === true) parsed.error = typeof text === "string" ? text : "the CLI reported an error";
  }
  if (type === "text" || type === "delta") {
    if (typeof record.text === "string") parsed.delta = record.text;
  }
  return parsed;
}

/**
 * An agent CLI per turn (pi `--mode json`, `claude -p`, `codex exec --json`, or any command): the prompt as an
 * argument or on stdin, output parsed as it streams, the CLI's own session id remembered (in `dataDir`, across
 * restarts) so later turns resume it. Abort and timeout kill the child's whole process group.
 */
export function createCliBackend(options: CliBackendOptions): AgentRuntime {
  const mapFile = join(options.dataDir, "cli-sessions.json");
  const sessionsDir = join(options.dataDir, "sessions");
  let cliSessions: Record<string, string> = {};
  try {
    cliSessions = JSON.parse(readFileSync(mapFile, "utf8")) as Record<string, string>;
  } catch {
    // none yet (or unreadable: start over; the CLI keeps its own sessions)
  }
  const children = new Set<ReturnType<typeof spawn>>();
  const kill = (child: ReturnType<typeof spawn>) => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    try {
      process.kill(-child.pid!, "SIGTERM");
    } catch {
      child.kill("SIGTERM");
    }
    setTimeout(() => {
      if (child.exitCode === null && child.signalCode === null) {
        try {
          process.kill(-child.pid!, "SIGKILL");
        } catch {
          child.kill("SIGKILL");
        }
      }
    }, 2_000).unref();
  };

  return {
    name: "cli",
    capabilities: { streaming: options.output !== "json", tools: false, steer: false, images: false },
    async *run(sessionKey, input, { runId, signal, sessionId }): AsyncIterable<AgentRunEvent> {
      yield { type: "run_start", runId };
      const id = sessionId ?? sessionKey.replace(/[^\w.-]/g, "_");
      mkdirSync(sessionsDir, { recursive: true, mode: 0o700 });
      const sessionFile = join(sessionsDir, `${id}.jsonl`);
      const cliSessionId = cliSessions[id];
      const resume = options.resumeArgs && (cliSessionId !== undefined || existsSync(sessionFile));
      const template = resume ? options.resumeArgs! : options.args;
      const args = template.map((arg) =>
        arg
          .replaceAll("{input}", options.input === "arg" ? input : "-")
          .replaceAll("{sessionId}", id)
          .replaceAll("{sessionFile}", sessionFile)
          .replaceAll("{cliSessionId}", cliSessionId ?? ""),
      );
      let child: ReturnType<typeof spawn>;
      try {
        child = spawn(options.command, args, {
          cwd: options.cwd,
          env: childEnvironment(options.parentEnv ?? {}, options.env),
          stdio: [options.input === "stdin" ? "pipe" : "ignore", "pipe", "pipe"],
          detached: true,
        });
      } catch (error) {
        yield {
          type: "run_end",
          runId,
          stopReason: "error",
          text: "",
          error: `cannot start ${options.command}: ${(error as Error).message}`,
        };
        return;
      }
      children.add(child);
      const events = new EventChannel<Parsed>();
      let stderr = "";
      let spawnError: Error | undefined;
      let timedOut = false;
      const exit = new Promise<number | null>((resolve) => {
        child.once("error", (error) => {
          spawnError = error;
          resolve(null);
        });
        child.once("close", (code) => resolve(code));
      });
      void exit.then(() => events.end());
      if (options.input === "stdin") child.stdin!.end(input);
      child.stderr!.setEncoding("utf8").on("data", (chunk: string) => {
        stderr = (stderr + chunk).slice(-4_000);
      });
      let pending = "";
      child.stdout!.setEncoding("utf8").on("data", (chunk: string) => {
        if (options.output === "text") return events.push({ delta: chunk });
        pending += chunk;
        if (options.output === "json") return;
        let newline = pending.indexOf("\n");
        while (newline >= 0) {
          const line = pending.slice(0, newline).trim();
          pending = pending.slice(newline + 1);
          newline = pending.indexOf("\n");
          if (!line.startsWith("{")) continue;
          try {
            events.push(parseRecord(JSON.parse(line) as Record<string, unknown>));
          } catch {
            // not a JSON line (a CLI's banner or warning): ignored
          }
        }
      });
      const onAbort = () => kill(child);
      signal.addEventListener("abort", onAbort, { once: true });
      const timer = setTimeout(() => {
        timedOut = true;
        kill(child);
      }, options.timeoutMs ?? 600_000);
      let text = "";
      let message = "";
      let usage: Usage | undefined;
      let error: string | undefined;
      let newCliSession: string | undefined;
      const take = (parsed: Parsed) => {
        if (parsed.message) message = parsed.message;
        if (parsed.usage) usage = parsed.usage;
        if (parsed.error) error = parsed.error;
        if (parsed.cliSessionId) newCliSession = parsed.cliSessionId;
      };
      try {
        for await (const parsed of events) {
          take(parsed);
          if (parsed.delta) {
            text += parsed.delta;
            yield { type: "text_delta", text: parsed.delta };
          }
        }
        const code = await exit;
        if (options.output === "json" && pending.trim()) {
          try {
            take(parseRecord(JSON.parse(pending) as Record<string, unknown>));
          } catch {
            error ??= `${options.command} printed output that is not JSON: ${pending.slice(0, 200)}`;
          }
        }
        if (!text && message) {
          text = message;
          yield { type: "text_delta", text };
        }
        let stopReason: StopReason = "stop";
        if (signal.aborted) stopReason = "aborted";
        else if (timedOut) {
          stopReason = "error";
          error = `${options.command} did not finish within ${Math.round((options.timeoutMs ?? 600_000) / 1000)} s and was stopped`;
        } else if (spawnError) {
          stopReason = "error";
          error = `cannot start ${options.command}: ${spawnError.message}`;
        } else if (code !== 0) {
          stopReason = "error";
          error = `${options.command} exited with code ${code}${stderr.trim() ? `: ${stderr.trim().split("\n").slice(-3).join(" ")}` : ""}`;
        } else if (error) stopReason = "error";
        if (stopReason === "stop" && newCliSession && newCliSession !== cliSessionId) {
          cliSessions[id] = newCliSession;
          await writeFileAtomic(mapFile, JSON.stringify(cliSessions)).catch(() => undefined);
        }
        if (stopReason === "stop") yield { type: "message_end", text };
        yield {
          type: "run_end",
          runId,
          stopReason,
          text,
          ...(stopReason === "error" && error ? { error } : {}),
          ...(usage ? { usage } : {}),
        };
      } finally {
        clearTimeout(timer);
        signal.removeEventListener("abort", onAbort);
        kill(child);
        children.delete(child);
      }
    },
    async forget() {
      // A reset gives the session a new id: the next turn starts a new CLI session by itself.
    },
    async dispose() {
      for (const child of children) kill(child);
    },
  };
}
