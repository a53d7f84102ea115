import { type Static, Type } from "@sinclair/typebox";
import { ChatMessage } from "../chat-message.js";
import { NonEmptyString, NonNegativeInteger, StringMap, TimestampMs } from "../primitives.js";
import { SessionDefaultsView, SessionSummary } from "./sessions.js";

const IdempotencyKey = () =>
  NonEmptyString({ maxLength: 256, description: "Retrying with the same key returns the first result" });

/** Params of `send`: deliver a message to a channel peer. */
export const SendParams = Type.Object({
  to: NonEmptyString(),
  message: Type.Optional(Type.String()),
  mediaUrl: Type.Optional(Type.String()),
  mediaUrls: Type.Optional(Type.Array(Type.String())),
  channel: Type.Optional(Type.String()),
  accountId: Type.Optional(Type.String()),
  agentId: Type.Optional(Type.String()),
  replyToId: Type.Optional(Type.String()),
  threadId: Type.Optional(Type.String()),
  silent: Type.Optional(Type.Boolean()),
  sessionKey: Type.Optional(Type.String()),
  idempotencyKey: IdempotencyKey(),
});
export type SendParams = Static<typeof SendParams>;

/** Result of `send` and `poll`. */
export const SendResult = Type.Object(
  {
    ok: Type.Literal(true),
    channel: NonEmptyString(),
    accountId: NonEmptyString(),
    to: NonEmptyString(),
    messageId: NonEmptyString({ description: "The platform's id of the (first) message sent" }),
    messageIds: Type.Optional(Type.Array(NonEmptyString(), { description: "Every chunk's id when split" })),
  },
  { additionalProperties: false },
);
export type SendResult = Static<typeof SendResult>;

/** Params of `message.action`: the reference CLI's `openclaw message send`. Only action `send` is built here. */
export const MessageActionParams = Type.Object({
  channel: NonEmptyString(),
  action: NonEmptyString(),
  /** For `send`: `target` (or `to`), the chat id; `message` (or `text`); optional `threadId`, `replyTo`. */
  params: StringMap(Type.Unknown()),
  accountId: Type.Optional(Type.String()),
  idempotencyKey: IdempotencyKey(),
});
export type MessageActionParams = Static<typeof MessageActionParams>;

/** Result of `message.action` (`send`): what `send` answers, and the action. */
export const MessageActionResult = Type.Object(
  {
    ok: Type.Literal(true),
    action: Type.Literal("send"),
    channel: NonEmptyString(),
    accountId: NonEmptyString(),
    to: NonEmptyString(),
    messageId: NonEmptyString(),
    messageIds: Type.Optional(Type.Array(NonEmptyString())),
  },
  { additionalProperties: false },
);
export type MessageActionResult = Static<typeof MessageActionResult>;

/** Params of `poll`: send a poll to a channel peer. */
export const PollParams = Type.Object({
  to: NonEmptyString(),
  question: NonEmptyString(),
  options: Type.Array(NonEmptyString(), { minItems: 2, maxItems: 12 }),
  maxSelections: Type.Optional(Type.Integer({ minimum: 1, maximum: 12 })),
  durationSeconds: Type.Optional(Type.Integer({ minimum: 1, maximum: 604_800 })),
  durationHours: Type.Optional(Type.Integer({ minimum: 1 })),
  silent: Type.Optional(Type.Boolean()),
  isAnonymous: Type.Optional(Type.Boolean()),
  threadId: Type.Optional(Type.String()),
  channel: Type.Optional(Type.String()),
  accountId: Type.Optional(Type.String()),
  idempotencyKey: IdempotencyKey(),
});
export type PollParams = Static<typeof PollParams>;

/** Params of `agent`: run one agent turn. Answers twice with the same id: an ack, then the final result. */
export const AgentParams = Type.Object({
  message: NonEmptyString(),
  agentId: Type.Optional(NonEmptyString()),
  sessionKey: Type.Optional(Type.String()),
  sessionId: Type.Optional(Type.String()),
  thinking: Type.Optional(Type.String()),
  to: Type.Optional(Type.String()),
  channel: Type.Optional(Type.String()),
  accountId: Type.Optional(Type.String()),
  threadId: Type.Optional(Type.String()),
  deliver: Type.Optional(Type.Boolean()),
  timeout: Type.Optional(NonNegativeInteger({ description: "Seconds; 0 uses the default" })),
  extraSystemPrompt: Type.Optional(Type.String()),
  label: Type.Optional(Type.String({ minLength: 1, maxLength: 512 })),
  idempotencyKey: IdempotencyKey(),
});
export type AgentParams = Static<typeof AgentParams>;

/** The first answer of `agent`: the run was accepted and has an id. */
export const AgentAccepted = Type.Object(
  { runId: NonEmptyString(), status: Type.Literal("accepted"), acceptedAt: TimestampMs() },
  { additionalProperties: false },
);
export type AgentAccepted = Static<typeof AgentAccepted>;

/** How a run ended. */
export const RunStatus = Type.Union([
  Type.Literal("ok"),
  Type.Literal("error"),
  Type.Literal("timeout"),
  Type.Literal("aborted"),
]);
export type RunStatus = Static<typeof RunStatus>;

/** The final answer of `agent`. */
export const AgentResult = Type.Object(
  {
    runId: NonEmptyString(),
    status: RunStatus,
    summary: Type.Optional(Type.String({ description: "The assistant's final text" })),
    sessionKey: Type.Optional(NonEmptyString()),
    error: Type.Optional(Type.String()),
  },
  { additionalProperties: false },
);
export type AgentResult = Static<typeof AgentResult>;

/** Params of `agent.wait`: wait for a run to end. */
export const AgentWaitParams = Type.Object({
  runId: NonEmptyString(),
  timeoutMs: Type.Optional(NonNegativeInteger()),
});
export type AgentWaitParams = Static<typeof AgentWaitParams>;

/** Result of `agent.wait`. `timeout` means the wait timed out, not necessarily the run. */
export const AgentWaitResult = Type.Object(
  {
    runId: NonEmptyString(),
    status: Type.Union([Type.Literal("ok"), Type.Literal("error"), Type.Literal("timeout")]),
    startedAt: Type.Optional(TimestampMs()),
    endedAt: Type.Optional(TimestampMs()),
    error: Type.Optional(Type.String()),
  },
  { additionalProperties: false },
);
export type AgentWaitResult = Static<typeof AgentWaitResult>;

/** Payload of the `agent` event: one step of a run's stream (`lifecycle`, `assistant`, `tool`, `thinking`). */
export const AgentEvent = Type.Object(
  {
    runId: NonEmptyString(),
    seq: NonNegativeInteger(),
    stream: NonEmptyString(),
    ts: TimestampMs(),
    isHeartbeat: Type.Optional(Type.Boolean()),
    data: StringMap(Type.Unknown()),
  },
  { additionalProperties: false },
);
export type AgentEvent = Static<typeof AgentEvent>;

/** Queue modes: what happens to a message that arrives while the session is busy. */
export const QueueMode = Type.Union([
  Type.Literal("steer"),
  Type.Literal("followup"),
  Type.Literal("collect"),
  Type.Literal("interrupt"),
]);
export type QueueMode = Static<typeof QueueMode>;

/** Params of `chat.send`: send a user message to a session; output arrives as `chat` events. */
export const ChatSendParams = Type.Object({
  sessionKey: NonEmptyString({ maxLength: 512 }),
  agentId: Type.Optional(NonEmptyString()),
  message: Type.String(),
  thinking: Type.Optional(Type.String()),
  queueMode: Type.Optional(QueueMode),
  deliver: Type.Optional(Type.Boolean()),
  attachments: Type.Optional(
    Type.Array(
      Type.Object({
        type: Type.Optional(Type.String()),
        mimeType: Type.Optional(Type.String()),
        fileName: Type.Optional(Type.String()),
        content: Type.Optional(Type.Unknown()),
      }),
    ),
  ),
  timeoutMs: Type.Optional(NonNegativeInteger()),
  idempotencyKey: IdempotencyKey(),
});
export type ChatSendParams = Static<typeof ChatSendParams>;

/** Result of `chat.send`. A retry while the first is running answers `in_flight`. */
export const ChatSendResult = Type.Object(
  {
    runId: NonEmptyString(),
    status: Type.Union([Type.Literal("started"), Type.Literal("queued"), Type.Literal("in_flight")]),
  },
  { additionalProperties: false },
);
export type ChatSendResult = Static<typeof ChatSendResult>;

/** Params of `chat.history`. */
export const ChatHistoryParams = Type.Object({
  sessionKey: NonEmptyString(),
  agentId: Type.Optional(NonEmptyString()),
  limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000 })),
  maxChars: Type.Optional(Type.Integer({ minimum: 1, maximum: 500_000 })),
});
export type ChatHistoryParams = Static<typeof ChatHistoryParams>;

/** Result of `chat.history` and `chat.startup`: the newest `limit` messages, oldest first, and the session's state. */
export const ChatHistoryResult = Type.Object(
  {
    sessionKey: NonEmptyString(),
    sessionId: Type.Optional(NonEmptyString()),
    messages: Type.Array(ChatMessage),
    truncated: Type.Optional(Type.Boolean()),
    /** Inputs accepted but not in `messages` yet. Always empty here: a message is in the transcript once accepted. */
    pendingInputs: Type.Object(
      { items: Type.Array(Type.Unknown(), { maxItems: 0 }), total: Type.Literal(0) },
      { additionalProperties: false },
    ),
    /** The model a new run in this session uses when the session sets none. */
    defaults: SessionDefaultsView,
    /** The session as `sessions.list` shows it; absent before its first message. */
    sessionInfo: Type.Optional(SessionSummary),
    thinkingLevel: Type.Optional(Type.String()),
  },
  { additionalProperties: false },
);
export type ChatHistoryResult = Static<typeof ChatHistoryResult>;

/** Params of `chat.abort`: stop the session's run (or one run). */
export const ChatAbortParams = Type.Object({
  sessionKey: NonEmptyString(),
  agentId: Type.Optional(NonEmptyString()),
  runId: Type.Optional(NonEmptyString()),
});
export type ChatAbortParams = Static<typeof ChatAbortParams>;

/** Result of `chat.abort`. */
export const ChatAbortResult = Type.Object(
  { ok: Type.Literal(true), aborted: Type.Boolean(), runIds: Type.Array(NonEmptyString()) },
  { additionalProperties: false },
);
export type ChatAbortResult = Static<typeof ChatAbortResult>;

/** Params of `chat.inject`: append an assistant note to the transcript without running the agent. */
export const ChatInjectParams = Type.Object({
  sessionKey: NonEmptyString(),
  agentId: Type.Optional(NonEmptyString()),
  message: NonEmptyString(),
  label: Type.Optional(Type.String({ maxLength: 100 })),
});
export type ChatInjectParams = Static<typeof ChatInjectParams>;

/** Result of `chat.inject`. */
export const ChatInjectResult = Type.Object(
  { ok: Type.Literal(true), messageId: NonEmptyString() },
  { additionalProperties: false },
);
export type ChatInjectResult = Static<typeof ChatInjectResult>;

const chatEventBase = {
  runId: NonEmptyString(),
  sessionKey: NonEmptyString(),
  agentId: Type.Optional(NonEmptyString()),
  seq: NonNegativeInteger(),
};

/** `chat` event, state `delta`: more assistant text. */
export const ChatDeltaEvent = Type.Object(
  { ...chatEventBase, state: Type.Literal("delta"), deltaText: Type.String(), message: Type.Optional(Type.Unknown()) },
  { additionalProperties: false },
);
/** `chat` event, state `final`: the run finished; `message` is the assistant's message as the transcript keeps it. */
export const ChatFinalEvent = Type.Object(
  {
    ...chatEventBase,
    state: Type.Literal("final"),
    message: Type.Optional(ChatMessage),
    usage: Type.Optional(Type.Unknown()),
    stopReason: Type.Optional(Type.String()),
  },
  { additionalProperties: false },
);
/** `chat` event, state `aborted`. */
export const ChatAbortedEvent = Type.Object(
  {
    ...chatEventBase,
    state: Type.Literal("aborted"),
    message: Type.Optional(Type.Unknown()),
    errorMessage: Type.Optional(Type.String()),
    stopReason: Type.Optional(Type.String()),
  },
  { additionalProperties: false },
);
/** `chat` event, state `error`. */
export const ChatErrorEvent = Type.Object(
  {
    ...chatEventBase,
    state: Type.Literal("error"),
    message: Type.Optional(Type.Unknown()),
    errorMessage: Type.Optional(Type.String()),
    errorKind: Type.Optional(
      Type.Union([
        Type.Literal("refusal"),
        Type.Literal("timeout"),
        Type.Literal("rate_limit"),
        Type.Literal("context_length"),
        Type.Literal("unknown"),
      ]),
    ),
    stopReason: Type.Optional(Type.String()),
  },
  { additionalProperties: false },
);

/** Payload of the `chat` event. */
export const ChatEvent = Type.Union([ChatDeltaEvent, ChatFinalEvent, ChatAbortedEvent, ChatErrorEvent]);
export type ChatEvent = Static<typeof ChatEvent>;
