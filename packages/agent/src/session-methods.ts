// The reference's session methods beyond `sessions.list|preview|patch|reset|delete`: `sessions.describe`,
// `sessions.create`, `sessions.send`, `sessions.abort` and `sessions.compact`, on the same sessions and lanes.
import { randomUUID } from "node:crypto";
import { invalidRequest } from "@gateway/protocol";
import type { AgentHost } from "./agent-host.js";
import type { AgentService } from "./agent-service.js";

/** Register `sessions.describe|create|send|abort|compact`. */
export function registerSessionMethods(host: AgentHost, service: AgentService): void {
  host.registerMethod("sessions.describe", async (params) => {
    const entry = service.store.get(params.key);
    if (!entry) return { session: null };
    return { session: params.includeLastMessage ? await service.summaryWithPreview(entry) : service.summary(entry) };
  });

  host.registerMethod("sessions.create", async (params) => {
    const key = params.key ?? `agent:${service.agentId}:session:${randomUUID()}`;
    if (params.key && service.store.get(params.key))
      throw invalidRequest(`a session with key "${params.key}" exists already (sessions.describe shows it)`);
    await service.store.ensure(key);
    const changes = {
      ...(params.label ? { label: params.label } : {}),
      ...(params.model ? { model: params.model } : {}),
      ...(params.thinkingLevel ? { thinkingLevel: params.thinkingLevel } : {}),
    };
    const entry = Object.keys(changes).length > 0 ? await service.store.patch(key, changes) : service.store.get(key)!;
    const run = params.message ? await service.send(key, params.message) : undefined;
    return {
      ok: true as const,
      key,
      sessionId: entry.sessionId,
      entry: service.summary(entry),
      runStarted: run !== undefined,
      ...(run ? { runId: run.runId } : {}),
    };
  });

  host.registerMethod("sessions.send", async (params) => {
    const run = await service.send(params.key, params.message);
    return { runId: run.runId, status: run.status, key: params.key };
  });

  host.registerMethod("sessions.abort", async (params) => {
    if (!params.key && !params.runId) throw invalidRequest("sessions.abort needs key or runId");
    const key = params.key ?? service.sessionOfRun(params.runId!);
    if (!key) return { ok: true as const, aborted: false, runIds: [] };
    const runIds = await service.abort(key, params.runId);
    return { ok: true as const, aborted: runIds.length > 0, runIds };
  });

  host.registerMethod("sessions.compact", async (params) => {
    if (!service.store.get(params.key)) throw invalidRequest(`no session "${params.key}" (sessions.list shows them)`);
    if (service.lanes.isBusy(params.key))
      throw invalidRequest(`session "${params.key}" has a run going on; compact it after the run (or chat.abort it)`);
    const result = await service.store.compact(params.key, params.maxLines ?? 400);
    // Backends that keep their own conversation start from the kept messages.
    await service.lanes.runtime.forget?.(params.key);
    return {
      ok: true as const,
      key: params.key,
      compacted: result.removed > 0,
      kept: result.kept,
      removed: result.removed,
      ...(result.archived ? { archived: result.archived } : {}),
    };
  });
}
