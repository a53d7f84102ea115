import type { AgentRunEvent, AgentRuntime } from "../runtime.js";

/** Options of the echo backend. */
export interface EchoBackendOptions {
  /** Delay before each word, to exercise streaming, abort and queueing. @default 0 */
  delayMs?: number;
  /** Prefix of every reply. @default "" */
  prefix?: string;
  /** Prefix of the first reply only (the gateway says there that no model is configured). */
  noticeOnce?: string;
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (ms <= 0 || signal.aborted) return resolve();
    const timer = setTimeout(resolve, ms);
    signal.addEventListener(
      "abort",
      () => {
        clearTimeout(timer);
        resolve();
      },
      { once: true },
    );
  });
}

/**
 * The deterministic backend: streams the input back word by word, honours abort and a delay. No dependencies; the
 * default in tests and the fallback when no model is configured.
 */
export function createEchoBackend(options: EchoBackendOptions = {}): AgentRuntime {
  const delayMs = options.delayMs ?? 0;
  let notice = options.noticeOnce ?? "";
  return {
    name: "echo",
    capabilities: { streaming: true, tools: false, steer: false, images: false },
    async *run(_sessionKey, input, { runId, signal }): AsyncIterable<AgentRunEvent> {
      yield { type: "run_start", runId };
      const words = `${notice}${options.prefix ?? ""}${input}`.split(/(?<=\s)/);
      notice = "";
      let text = "";
      for (const word of words) {
        await sleep(delayMs, signal);
        if (signal.aborted) {
          yield { type: "run_end", runId, stopReason: "aborted", text };
          return;
        }
        text += word;
        yield { type: "text_delta", text: word };
      }
      yield { type: "message_end", text };
      yield {
        type: "run_end",
        runId,
        stopReason: "stop",
        text,
        usage: { inputTokens: input.split(/\s+/).filter(Boolean).length, outputTokens: words.length },
      };
    },
    async dispose() {},
  };
}
