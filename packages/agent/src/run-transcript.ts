// What a run leaves in the session's transcript besides its input: its tool calls and its reply with usage.

import type { ChatMessage } from "@gateway/protocol";
import { textContent } from "@gateway/protocol";
import type { RunOutcome } from "./session-lanes.js";
import type { SessionStorage } from "./session-storage.js";

/** Keep a tool call of a run as the model's call and the tool's result. */
export function keepToolCall(
  store: SessionStorage,
  sessionKey: string,
  runId: string,
  call: { toolCallId: string; name: string; output: unknown; isError: boolean },
  input: unknown,
): Promise<void> {
  const output = typeof call.output === "string" ? call.output : JSON.stringify(call.output ?? null);
  const keep = async () => {
    await store.append(sessionKey, {
      role: "assistant",
      content: [{ type: "toolCall", id: call.toolCallId, name: call.name, arguments: input ?? {} }],
      runId,
    });
    await store.append(sessionKey, {
      role: "toolResult",
      toolCallId: call.toolCallId,
      toolName: call.name,
      content: textContent(output),
      isError: call.isError,
      runId,
    });
  };
  return keep();
}

/** Keep a finished run's reply (as streamed, when it was) and add its usage to the session's counts. */
export async function keepReply(
  store: SessionStorage,
  sessionKey: string,
  runId: string,
  outcome: RunOutcome,
  streamed: ChatMessage | undefined,
): Promise<void> {
  if (outcome.text || outcome.stopReason === "stop") {
    await store.append(
      sessionKey,
      streamed ?? {
        role: "assistant",
        content: textContent(outcome.text),
        runId,
        stopReason: outcome.stopReason,
      },
    );
  }
  if (outcome.usage) await store.addUsage(sessionKey, outcome.usage.inputTokens, outcome.usage.outputTokens);
}
