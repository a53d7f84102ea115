// The `sessions.*` methods, on the service's sessions and lanes.
import { randomUUID } from "node:crypto";
import { chatMessageText, invalidRequest } from "@gateway/protocol";
import type { AgentHost } from "./agent-host.js";
import type { AgentService } from "./agent-service.js";

/** Register `sessions.list|preview|patch|reset|delete|describe|create|send|abort|compact`. */
export function registerSessionMethods(host: AgentHost, service: AgentService): void {
  host.registerMethod("sessions.list", (params) => service.listSessions(params));

  host.registerMethod("sessions.preview", async (params) => ({
    ts: Date.now(),
    previews: await Promise.all(
      params.keys.map(async (key) => {
        if (!service.store.get(key)) return { key, status: "missing" as const, items: [] };
        const messages = (await service.store.history(key, params.limit ?? 3)).filter(
          (message) => message.role !== "toolResult" && chatMessageText(message) !== "",
        );
        return {
          key,
          status: messages.length > 0 ? ("ok" as const) : ("empty" as const),
          items: messages.map((message) => ({
            role: message.role as "user" | "assistant" | "system",
            text: chatMessageText(message).slice(0, params.maxChars ?? 200),
          })),
        };
      }),
    ),
  }));

  host.registerMethod("sessions.patch", async (params) => {
    const { key, agentId: _agentId, ...changes } = params;
    const entry = await service.store.patch(key, changes);
    return { ok: true as const, key, entry: service.summary(entry) };
  });

  host.registerMethod("sessions.reset", async (params) => {
    const entry = await service.resetSession(params.key);
    return { ok: true as const, key: params.key, sessionId: entry.sessionId };
  });

  host.registerMethod("sessions.delete", async (params) => {
    // Its run may be on another instance: it must not write on after the session changed.
    await service.abort(params.key).catch(() => []);
    const result = await service.store.delete(params.key);
    await service.lanes.runtime.forget?.(params.key);
    return { ok: true as const, key: params.key, deleted: result.deleted, archived: result.archived };
  });

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
