import { type Static, Type } from "@sinclair/typebox";
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

/** One session as listed. */
export const SessionSummary = Type.Object(
  {
    key: NonEmptyString(),
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
  },
  { additionalProperties: false },
);
export type SessionSummary = Static<typeof SessionSummary>;

/** Params of `sessions.list`. */
export const SessionsListParams = Type.Object({
  limit: Type.Optional(Type.Integer({ minimum: 1 })),
  offset: Type.Optional(NonNegativeInteger()),
  activeMinutes: Type.Optional(Type.Integer({ minimum: 1 })),
  agentId: Type.Optional(NonEmptyString()),
  search: Type.Optional(Type.String()),
});
export type SessionsListParams = Static<typeof SessionsListParams>;

/** Result of `sessions.list`, newest first. */
export const SessionsListResult = Type.Object(
  { ts: TimestampMs(), count: NonNegativeInteger(), sessions: Type.Array(SessionSummary) },
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
