import type { GatewayClient } from "@gateway/client";
import type { ChatEvent } from "@gateway/protocol";

/** How a followed run ended. */
export interface RunEnd {
  state: "final" | "aborted" | "error";
  text: string;
  error?: string;
}

/**
 * Follow one run's `chat` events: `onDelta` gets its text as it streams, `done` resolves when it ends. Events can
 * arrive before the run id is known (the answer to `chat.send` races them), so they are kept until `track(runId)`.
 */
export function followRun(client: GatewayClient, onDelta: (text: string) => void) {
  const early = new Map<string, ChatEvent[]>();
  let runId: string | undefined;
  let text = "";
  let settle!: (end: RunEnd) => void;
  const done = new Promise<RunEnd>((resolve) => {
    settle = resolve;
  });
  const handle = (event: ChatEvent) => {
    if (event.state === "delta") {
      const delta = (event as { deltaText?: string }).deltaText ?? "";
      text += delta;
      onDelta(delta);
    } else if (event.state === "final") {
      const final = (event as { message?: { text?: string } }).message?.text ?? text;
      if (!text && final) onDelta(final);
      settle({ state: "final", text: final });
    } else if (event.state === "aborted") settle({ state: "aborted", text });
    else settle({ state: "error", text, error: (event as { errorMessage?: string }).errorMessage ?? "the run failed" });
  };
  const unsubscribe = client.on("chat", (event) => {
    if (runId === undefined) {
      const list = early.get(event.runId) ?? [];
      list.push(event);
      early.set(event.runId, list);
    } else if (event.runId === runId) handle(event);
  });
  return {
    /** The run to follow; events that came before are replayed. */
    track(id: string) {
      runId = id;
      for (const event of early.get(id) ?? []) handle(event);
      early.clear();
    },
    done: done.finally(unsubscribe),
    get runId() {
      return runId;
    },
  };
}
