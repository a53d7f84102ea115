import { type Static, Type } from "@sinclair/typebox";
import { ChatMessage } from "../chat-message.js";
import { NonEmptyString, NonNegativeInteger, Nullable, TimestampMs } from "../primitives.js";

/** Where a session's messages came from, so replies go back there. */
export const SessionOrigin = Type.Object(
  {
    channel: NonEmptyString(),
    accountId: Type.Optional(NonEmptyString()),
    peer: Type.Optional(NonEmptyString()),
    threadId: Type.Optional(NonEmptyString()),
    chatType: Type.Optional(Type.String()),
  },
  { additionalProperties: false },
);
export type SessionOrigin = Static<typeof SessionOrigin>;

/** One session as listed (the reference's `SessionRow` fields we have). */
export const SessionSummary = Type.Object(
  {
    key: NonEmptyString(),
    /** `direct` (a person, or the main session), `group` (a group chat or channel). */
    kind: Type.Union([Type.Literal("direct"), Type.Literal("group"), Type.Literal("global"), Type.Literal("unknown")]),
    sessionId: NonEmptyString(),
    agentId: NonEmptyString(),
    updatedAt: TimestampMs(),
    label: Type.Optional(Type.String()),
    origin: Type.Optional(SessionOrigin),
    inputTokens: Type.Optional(NonNegativeInteger()),
    outputTokens: Type.Optional(NonNegativeInteger()),
    totalTokens: Type.Optional(NonNegativeInteger()),
    thinkingLevel: Type.Optional(Type.String()),
    model: Type.Optional(Type.String()),
    sendPolicy: Type.Optional(Type.Union([Type.Literal("allow"), Type.Literal("deny")])),
    modelProvider: Type.Optional(Type.String()),
    displayName: Type.Optional(Type.String()),
    channel: Type.Optional(Type.String()),
    chatType: Type.Optional(Type.Union([Type.Literal("direct"), Type.Literal("group"), Type.Literal("channel")])),
    isMain: Type.Optional(Type.Boolean()),
    /** `running` while a run of this session goes on. */
    status: Type.Optional(Type.Union([Type.Literal("running"), Type.Literal("done"), Type.Literal("failed")])),
    hasActiveRun: Type.Optional(Type.Boolean()),
    lastMessagePreview: Type.Optional(Type.String()),
  },
  { additionalProperties: false },
);
export type SessionSummary = Static<typeof SessionSummary>;

/** The model new runs use when a session sets none, and where a model choice applies (`sessions.patch`: per session). */
export const SessionDefaultsView = Type.Object(
  {
    modelProvider: Nullable(Type.String()),
    model: Nullable(Type.String()),
    contextTokens: Nullable(NonNegativeInteger()),
    modelSelectionTarget: Type.Literal("session"),
  },
  { additionalProperties: false },
);
export type SessionDefaultsView = Static<typeof SessionDefaultsView>;

/** Params of `sessions.list`. */
export const SessionsListParams = Type.Object({
  limit: Type.Optional(Type.Integer({ minimum: 1 })),
  includeLastMessage: Type.Optional(Type.Boolean()),
  offset: Type.Optional(NonNegativeInteger()),
  activeMinutes: Type.Optional(Type.Integer({ minimum: 1 })),
  agentId: Type.Optional(NonEmptyString()),
  search: Type.Optional(Type.String()),
});
export type SessionsListParams = Static<typeof SessionsListParams>;

/** Result of `sessions.list`, newest first. */
export const SessionsListResult = Type.Object(
  {
    ts: TimestampMs(),
    /** Where the agent's session index is. */
    path: Type.Optional(NonEmptyString()),
    count: NonNegativeInteger(),
    defaults: SessionDefaultsView,
    sessions: Type.Array(SessionSummary),
  },
  { additionalProperties: false },
);
export type SessionsListResult = Static<typeof SessionsListResult>;

/** Params of `sessions.preview`: the last messages of several sessions at once. */
export const SessionsPreviewParams = Type.Object({
  keys: Type.Array(NonEmptyString(), { minItems: 1 }),
  limit: Type.Optional(Type.Integer({ minimum: 1 })),
  maxChars: Type.Optional(Type.Integer({ minimum: 20 })),
});
export type SessionsPreviewParams = Static<typeof SessionsPreviewParams>;

/** Result of `sessions.preview`. */
export const SessionsPreviewResult = Type.Object(
  {
    ts: TimestampMs(),
    previews: Type.Array(
      Type.Object(
        {
          key: NonEmptyString(),
          status: Type.Union([Type.Literal("ok"), Type.Literal("empty"), Type.Literal("missing")]),
          items: Type.Array(
            Type.Object(
              {
                role: Type.Union([Type.Literal("user"), Type.Literal("assistant"), Type.Literal("system")]),
                text: Type.String(),
              },
              { additionalProperties: false },
            ),
          ),
        },
        { additionalProperties: false },
      ),
    ),
  },
  { additionalProperties: false },
);
export type SessionsPreviewResult = Static<typeof SessionsPreviewResult>;

/** Params of `sessions.patch`: change a session's settings (`null` clears one). */
export const SessionsPatchParams = Type.Object({
  key: NonEmptyString(),
  agentId: Type.Optional(NonEmptyString()),
  label: Type.Optional(Nullable(Type.String({ minLength: 1, maxLength: 512 }))),
  thinkingLevel: Type.Optional(Nullable(NonEmptyString())),
  model: Type.Optional(Nullable(NonEmptyString())),
  sendPolicy: Type.Optional(Nullable(Type.Union([Type.Literal("allow"), Type.Literal("deny")]))),
});
export type SessionsPatchParams = Static<typeof SessionsPatchParams>;

/** Result of `sessions.patch`. */
export const SessionsPatchResult = Type.Object(
  { ok: Type.Literal(true), key: NonEmptyString(), entry: SessionSummary },
  { additionalProperties: false },
);
export type SessionsPatchResult = Static<typeof SessionsPatchResult>;

/** Params of `sessions.reset`: start a new session id under the same key. */
export const SessionsResetParams = Type.Object({
  key: NonEmptyString(),
  agentId: Type.Optional(NonEmptyString()),
  reason: Type.Optional(Type.Union([Type.Literal("new"), Type.Literal("reset")])),
});
export type SessionsResetParams = Static<typeof SessionsResetParams>;

/** Result of `sessions.reset`. */
export const SessionsResetResult = Type.Object(
  { ok: Type.Literal(true), key: NonEmptyString(), sessionId: NonEmptyString() },
  { additionalProperties: false },
);
export type SessionsResetResult = Static<typeof SessionsResetResult>;

/** Params of `sessions.delete`. */
export const SessionsDeleteParams = Type.Object({
  key: NonEmptyString(),
  agentId: Type.Optional(NonEmptyString()),
  deleteTranscript: Type.Optional(Type.Boolean()),
});
export type SessionsDeleteParams = Static<typeof SessionsDeleteParams>;

/** Result of `sessions.delete`. `archived` lists transcripts kept aside instead of deleted. */
export const SessionsDeleteResult = Type.Object(
  {
    ok: Type.Literal(true),
    key: NonEmptyString(),
    deleted: Type.Boolean(),
    archived: Type.Array(NonEmptyString()),
  },
  { additionalProperties: false },
);
export type SessionsDeleteResult = Static<typeof SessionsDeleteResult>;

/** Params of `sessions.describe`. */
export const SessionsDescribeParams = Type.Object({
  key: NonEmptyString(),
  includeLastMessage: Type.Optional(Type.Boolean()),
});
export type SessionsDescribeParams = Static<typeof SessionsDescribeParams>;

/** Result of `sessions.describe`: the session, or null when there is none under that key. */
export const SessionsDescribeResult = Type.Object(
  { session: Nullable(SessionSummary) },
  { additionalProperties: false },
);
export type SessionsDescribeResult = Static<typeof SessionsDescribeResult>;

/** Result of `sessions.subscribe`: `sessions.changed` events follow; with list params, the list now. */
export const SessionsSubscribeResult = Type.Object(
  { subscribed: Type.Boolean(), list: Type.Optional(SessionsListResult) },
  { additionalProperties: false },
);
export type SessionsSubscribeResult = Static<typeof SessionsSubscribeResult>;

/** Result of `sessions.unsubscribe`. */
export const SessionsUnsubscribeResult = Type.Object(
  { subscribed: Type.Literal(false) },
  { additionalProperties: false },
);
export type SessionsUnsubscribeResult = Static<typeof SessionsUnsubscribeResult>;

/** Params of `sessions.messages.subscribe` / `unsubscribe`: one session's `session.message` / `session.tool` events. */
export const SessionsMessagesSubscribeParams = Type.Object({
  key: NonEmptyString(),
  agentId: Type.Optional(NonEmptyString()),
  /** The reference's clients ask for approval replays too; this gateway has no approvals, so there are none. */
  includeApprovals: Type.Optional(Type.Literal(true)),
});
export type SessionsMessagesSubscribeParams = Static<typeof SessionsMessagesSubscribeParams>;

/** Params of `sessions.messages.unsubscribe`. */
export const SessionsMessagesUnsubscribeParams = Type.Object({
  key: NonEmptyString(),
  agentId: Type.Optional(NonEmptyString()),
});
export type SessionsMessagesUnsubscribeParams = Static<typeof SessionsMessagesUnsubscribeParams>;

/** Result of `sessions.messages.subscribe` / `unsubscribe`. */
export const SessionsMessagesSubscribeResult = Type.Object(
  {
    subscribed: Type.Boolean(),
    key: NonEmptyString(),
    /** With `includeApprovals`: the pending approvals of the session — none, there are no approvals here. */
    approvalReplay: Type.Optional(
      Type.Object(
        { approvals: Type.Array(Type.Unknown(), { maxItems: 0 }), complete: Type.Literal(true) },
        { additionalProperties: false },
      ),
    ),
  },
  { additionalProperties: false },
);
export type SessionsMessagesSubscribeResult = Static<typeof SessionsMessagesSubscribeResult>;

/** Params of `sessions.create`: a new session (a fresh key unless `key` is given), optionally with its first message. */
export const SessionsCreateParams = Type.Object({
  key: Type.Optional(NonEmptyString({ maxLength: 512 })),
  agentId: Type.Optional(NonEmptyString()),
  label: Type.Optional(Type.String({ minLength: 1, maxLength: 512 })),
  model: Type.Optional(NonEmptyString()),
  thinkingLevel: Type.Optional(NonEmptyString()),
  message: Type.Optional(NonEmptyString()),
  idempotencyKey: Type.Optional(NonEmptyString({ maxLength: 256 })),
});
export type SessionsCreateParams = Static<typeof SessionsCreateParams>;

/** Result of `sessions.create`. */
export const SessionsCreateResult = Type.Object(
  {
    ok: Type.Literal(true),
    key: NonEmptyString(),
    sessionId: NonEmptyString(),
    entry: SessionSummary,
    runStarted: Type.Boolean(),
    runId: Type.Optional(NonEmptyString()),
  },
  { additionalProperties: false },
);
export type SessionsCreateResult = Static<typeof SessionsCreateResult>;

/** Params of `sessions.send`: `chat.send` by session key. */
export const SessionsSendParams = Type.Object({
  key: NonEmptyString({ maxLength: 512 }),
  agentId: Type.Optional(NonEmptyString()),
  message: Type.String(),
  thinking: Type.Optional(Type.String()),
  timeoutMs: Type.Optional(NonNegativeInteger()),
  idempotencyKey: Type.Optional(NonEmptyString({ maxLength: 256 })),
});
export type SessionsSendParams = Static<typeof SessionsSendParams>;

/** Result of `sessions.send`. */
export const SessionsSendResult = Type.Object(
  {
    runId: NonEmptyString(),
    status: Type.Union([Type.Literal("started"), Type.Literal("queued")]),
    key: NonEmptyString(),
  },
  { additionalProperties: false },
);
export type SessionsSendResult = Static<typeof SessionsSendResult>;

/** Params of `sessions.abort`: stop a session's run (or one run by id). */
export const SessionsAbortParams = Type.Object({
  key: Type.Optional(NonEmptyString()),
  runId: Type.Optional(NonEmptyString()),
  agentId: Type.Optional(NonEmptyString()),
});
export type SessionsAbortParams = Static<typeof SessionsAbortParams>;

/** Params of `sessions.compact`: keep only the newest `maxLines` messages (the full transcript is kept aside). */
export const SessionsCompactParams = Type.Object({
  key: NonEmptyString(),
  agentId: Type.Optional(NonEmptyString()),
  maxLines: Type.Optional(Type.Integer({ minimum: 1 })),
});
export type SessionsCompactParams = Static<typeof SessionsCompactParams>;

/** Result of `sessions.compact`. */
export const SessionsCompactResult = Type.Object(
  {
    ok: Type.Literal(true),
    key: NonEmptyString(),
    compacted: Type.Boolean(),
    kept: NonNegativeInteger(),
    removed: NonNegativeInteger(),
    /** Where the full transcript was kept. */
    archived: Type.Optional(NonEmptyString()),
  },
  { additionalProperties: false },
);
export type SessionsCompactResult = Static<typeof SessionsCompactResult>;

/** Payload of `session.message`: a message appended to a session a connection subscribed to. */
export const SessionMessageEvent = Type.Object(
  {
    sessionKey: NonEmptyString(),
    agentId: NonEmptyString(),
    messageId: NonEmptyString(),
    /** The message's place in the transcript, 1-based. */
    messageSeq: Type.Optional(Type.Integer({ minimum: 1 })),
    message: ChatMessage,
    runId: Type.Optional(NonEmptyString()),
  },
  { additionalProperties: false },
);
export type SessionMessageEvent = Static<typeof SessionMessageEvent>;

/** Payload of `session.tool`: a tool call of a run in a subscribed session started or ended. */
export const SessionToolEvent = Type.Object(
  {
    sessionKey: NonEmptyString(),
    agentId: NonEmptyString(),
    runId: NonEmptyString(),
    phase: Type.Union([Type.Literal("start"), Type.Literal("result")]),
    toolCallId: NonEmptyString(),
    name: NonEmptyString(),
    isError: Type.Optional(Type.Boolean()),
    ts: TimestampMs(),
  },
  { additionalProperties: false },
);
export type SessionToolEvent = Static<typeof SessionToolEvent>;

/** Payload of `sessions.changed`: a session's state changed (a message, a run starting or ending, a setting). */
export const SessionsChangedEvent = Type.Object(
  {
    sessionKey: NonEmptyString(),
    agentId: NonEmptyString(),
    phase: Type.Union([
      Type.Literal("message"),
      Type.Literal("start"),
      Type.Literal("end"),
      Type.Literal("patch"),
      Type.Literal("delete"),
    ]),
    ts: TimestampMs(),
    runId: Type.Optional(NonEmptyString()),
    session: Type.Optional(SessionSummary),
  },
  { additionalProperties: false },
);
export type SessionsChangedEvent = Static<typeof SessionsChangedEvent>;
