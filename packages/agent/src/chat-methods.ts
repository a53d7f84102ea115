import { textContent } from "@gateway/protocol";
import type { AgentHost } from "./agent-host.js";
import type { AgentService } from "./agent-service.js";
import type { RunRegistry } from "./run-registry.js";
import { chatHistory } from "./session-views.js";

/** Register `chat.send|history|startup|abort|inject`. */
export function registerChatMethods(host: AgentHost, service: AgentService, runs: RunRegistry): void {
  host.registerMethod(
    "chat.send",
    async (params) => {
      const run = await service.send(params.sessionKey, params.message, {
        ...(params.queueMode ? { mode: params.queueMode } : {}),
        idempotencyKey: params.idempotencyKey,
      });
      return { runId: run.runId, status: run.status };
    },
    {
      // A retry while the first call is still starting the run waits for it (it only starts the run) and gets
      // its real run id; a retry while the run goes on is told so, instead of "started" again.
      replayResult: (_params, first) =>
        runs.get(first.runId)?.outcome === undefined ? { runId: first.runId, status: "in_flight" } : first,
    },
  );
  host.registerMethod("chat.history", (params) => chatHistory(service, params.sessionKey, params.limit));
  // The reference's Control UI opens a chat with `chat.startup`: the same answer.
  host.registerMethod("chat.startup", (params) => chatHistory(service, params.sessionKey, params.limit));
  host.registerMethod("chat.abort", async (params) => {
    const runIds = await service.abort(params.sessionKey, params.runId);
    return { ok: true as const, aborted: runIds.length > 0, runIds };
  });
  host.registerMethod("chat.inject", async (params) => {
    const message = await service.store.append(params.sessionKey, {
      role: "assistant",
      content: textContent(params.message),
    });
    return { ok: true as const, messageId: message.id };
  });
}
