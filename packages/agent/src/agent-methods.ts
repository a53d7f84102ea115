import type { AgentResult, AgentWaitResult } from "@gateway/protocol";
import type { AgentHost } from "./agent-host.js";
import type { AgentService } from "./agent-service.js";
import { deliveryTarget } from "./channel-replies.js";
import type { RunRegistry } from "./run-registry.js";

/** Register `agent` (ack, then the final answer; delivered to a channel with `deliver`), `wake` and `agent.wait`. */
export function registerAgentMethods(
  host: AgentHost,
  service: AgentService,
  runs: RunRegistry,
  runTimeoutMs: number,
): void {
  host.registerMethod(
    "agent",
    async (params, context): Promise<AgentResult> => {
      const sessionKey = params.sessionKey || service.mainSessionKey;
      const target = deliveryTarget(host, params);
      const run = await service.send(sessionKey, params.message, target ? { origin: target } : {});
      context.accept({ runId: run.runId, status: "accepted", acceptedAt: run.startedAt });
      const outcome = await run.done;
      if (target && outcome.stopReason === "stop" && outcome.text) await host.deliver?.(target, outcome.text);
      const status =
        outcome.stopReason === "error" ? "error" : outcome.stopReason === "aborted" ? "aborted" : ("ok" as const);
      return {
        runId: run.runId,
        status,
        summary: outcome.text,
        sessionKey,
        ...(outcome.error ? { error: outcome.error } : {}),
      };
    },
    { timeoutMs: runTimeoutMs + 5_000 },
  );
  host.registerMethod("wake", async (params) => {
    await service.wake(params.text, params.mode, params.sessionKey || service.mainSessionKey);
    return { ok: true as const, mode: params.mode };
  });
  host.registerMethod(
    "agent.wait",
    async (params): Promise<AgentWaitResult> => {
      const run = runs.get(params.runId);
      if (!run)
        return { runId: params.runId, status: "error", error: "unknown run id (runs are kept for the last 1000)" };
      const timeoutMs = params.timeoutMs ?? 30_000;
      const outcome = await Promise.race([
        run.done,
        new Promise<undefined>((resolve) => {
          const timer = setTimeout(resolve, timeoutMs);
          (timer as { unref?: () => void }).unref?.();
        }),
      ]);
      if (!outcome) return { runId: run.runId, status: "timeout", startedAt: run.startedAt };
      return {
        runId: run.runId,
        status: outcome.stopReason === "error" ? "error" : "ok",
        startedAt: run.startedAt,
        endedAt: run.endedAt ?? Date.now(),
        ...(outcome.error ? { error: outcome.error } : {}),
      };
    },
    { timeoutMs: 600_000 },
  );
}
