// How sessions and their messages look on the wire: `sessions.list`, `sessions.describe`, `chat.history`.
import type {
  ChatHistoryResult,
  ChatMessage,
  SessionDefaultsView,
  SessionSummary,
  SessionsListParams,
  SessionsListResult,
} from "@gateway/protocol";
import { chatMessageText } from "@gateway/protocol";
import type { AgentService } from "./agent-service.js";
import type { SessionEntry, TranscriptMessage } from "./session-store.js";

/** The model new runs use when a session sets none (absent: none). */
export function sessionDefaultsView(
  model: { provider: string; model: string; contextWindow?: number } | undefined,
): SessionDefaultsView {
  return {
    modelProvider: model?.provider ?? null,
    model: model?.model ?? null,
    contextTokens: model?.contextWindow ?? null,
    modelSelectionTarget: "session",
  };
}

/** A session as the protocol lists it (`sessions.list`, `sessions.patch`, `sessions.describe`). */
export function sessionSummary(service: AgentService, entry: SessionEntry): SessionSummary {
  const busy = service.lanes.isBusy(entry.key);
  const group = /:(group|channel):/.test(entry.key);
  const defaults = service.sessionDefaults();
  return {
    key: entry.key,
    kind: group ? "group" : "direct",
    sessionId: entry.sessionId,
    agentId: service.agentId,
    updatedAt: entry.updatedAt,
    ...(entry.label ? { label: entry.label } : {}),
    ...(entry.origin ? { origin: entry.origin } : {}),
    inputTokens: entry.inputTokens,
    outputTokens: entry.outputTokens,
    totalTokens: entry.inputTokens + entry.outputTokens,
    ...(entry.thinkingLevel ? { thinkingLevel: entry.thinkingLevel } : {}),
    ...(entry.model ? { model: entry.model } : defaults.model ? { model: defaults.model } : {}),
    ...(!entry.model && defaults.modelProvider ? { modelProvider: defaults.modelProvider } : {}),
    ...(entry.sendPolicy ? { sendPolicy: entry.sendPolicy } : {}),
    ...(entry.label ? { displayName: entry.label } : {}),
    ...(entry.origin ? { channel: entry.origin.channel } : {}),
    chatType: group ? "group" : "direct",
    isMain: entry.key === service.mainSessionKey,
    hasActiveRun: busy,
    ...(busy ? { status: "running" as const } : {}),
  };
}

/** A session with its last message's text (`sessions.list` with `includeLastMessage`). */
export async function sessionSummaryWithPreview(service: AgentService, entry: SessionEntry): Promise<SessionSummary> {
  const last = (await service.store.history(entry.key, 20)).findLast(
    (message) => message.role !== "toolResult" && chatMessageText(message) !== "",
  );
  return { ...service.summary(entry), ...(last ? { lastMessagePreview: chatMessageText(last).slice(0, 200) } : {}) };
}

/** `sessions.list`: the sessions, newest first, filtered and paged. */
export async function sessionList(service: AgentService, params: SessionsListParams): Promise<SessionsListResult> {
  const store = service.store;
  await store.ready;
  let sessions = store.list();
  if (params.activeMinutes)
    sessions = sessions.filter((entry) => Date.now() - entry.updatedAt <= params.activeMinutes! * 60_000);
  if (params.search)
    sessions = sessions.filter((entry) => entry.key.includes(params.search!) || entry.label?.includes(params.search!));
  const offset = params.offset ?? 0;
  const page = sessions.slice(offset, offset + (params.limit ?? 100));
  return {
    ts: Date.now(),
    path: store.indexPath,
    count: sessions.length,
    defaults: service.sessionDefaults(),
    sessions: await Promise.all(
      page.map(async (entry) =>
        params.includeLastMessage ? service.summaryWithPreview(entry) : service.summary(entry),
      ),
    ),
  };
}

/** `chat.history` / `chat.startup`: the newest messages and the session's state. */
export async function chatHistory(service: AgentService, sessionKey: string, limit = 200): Promise<ChatHistoryResult> {
  const store = service.store;
  await store.ready;
  const messages = await store.history(sessionKey, limit);
  const entry = store.get(sessionKey);
  return {
    sessionKey,
    ...(entry ? { sessionId: entry.sessionId } : {}),
    messages: messages.map(wireMessage),
    pendingInputs: { items: [], total: 0 },
    defaults: service.sessionDefaults(),
    ...(entry ? { sessionInfo: service.summary(entry) } : {}),
    ...(entry?.thinkingLevel ? { thinkingLevel: entry.thinkingLevel } : {}),
  };
}

/**
 * A transcript line as the wire carries it: without what only the store uses, with its id and place in the
 * transcript where the reference's clients read them (`__openclaw.id`, `__openclaw.seq`).
 */
export function wireMessage({ eventIds: _eventIds, seq, ...message }: TranscriptMessage): ChatMessage {
  return { ...message, __openclaw: { id: message.id, ...(seq !== undefined ? { seq } : {}) } };
}
