// A transcript message in the reference's content-block shape: `role`, `content[]` (text, image, thinking and tool
// call blocks), `timestamp`, and usage and stop reason where known. Transcripts on disk, `chat.history`, the final
// `chat` event and `session.message` all carry it. Transcripts written before this shape (`{role, text, ts}`) are
// read through `toChatMessage`, so old files keep working.
import { type Static, Type } from "@sinclair/typebox";
import { NonEmptyString, NonNegativeInteger, TimestampMs } from "./primitives.js";

/** Text the model or a person wrote. */
export const TextContent = Type.Object({ type: Type.Literal("text"), text: Type.String() });
/** An image, base64 (`data`) with its MIME type. */
export const ImageContent = Type.Object({ type: Type.Literal("image"), data: Type.String(), mimeType: Type.String() });
/** The model's reasoning, when the backend shows it. */
export const ThinkingContent = Type.Object({ type: Type.Literal("thinking"), thinking: Type.String() });
/** A tool the model called, with its arguments. */
export const ToolCallContent = Type.Object({
  type: Type.Literal("toolCall"),
  id: NonEmptyString(),
  name: NonEmptyString(),
  arguments: Type.Unknown(),
});

/** One block of a message's content. */
export const ContentBlock = Type.Union([TextContent, ImageContent, ThinkingContent, ToolCallContent]);
export type ContentBlock = Static<typeof ContentBlock>;

/** Who a message is from: `toolResult` carries a tool's output back to the model. */
export const ChatRole = Type.Union([
  Type.Literal("user"),
  Type.Literal("assistant"),
  Type.Literal("system"),
  Type.Literal("toolResult"),
]);
export type ChatRole = Static<typeof ChatRole>;

/** Token counts of the run that wrote an assistant message. */
export const MessageUsage = Type.Object(
  { input: NonNegativeInteger(), output: NonNegativeInteger(), totalTokens: NonNegativeInteger() },
  { additionalProperties: false },
);
export type MessageUsage = Static<typeof MessageUsage>;

/** One message of a transcript. */
export const ChatMessage = Type.Object(
  {
    id: Type.Optional(NonEmptyString()),
    role: ChatRole,
    content: Type.Array(ContentBlock),
    timestamp: TimestampMs(),
    runId: Type.Optional(NonEmptyString()),
    stopReason: Type.Optional(Type.String()),
    usage: Type.Optional(MessageUsage),
    /** On `toolResult` messages: which call this answers. */
    toolCallId: Type.Optional(NonEmptyString()),
    toolName: Type.Optional(NonEmptyString()),
    isError: Type.Optional(Type.Boolean()),
    /** On user messages: the `idempotencyKey` of the `chat.send` that wrote it (clients match their own message). */
    idempotencyKey: Type.Optional(NonEmptyString()),
    /** Where the message is in its transcript (1-based `seq`) and its id, as the reference's clients read them. */
    __openclaw: Type.Optional(
      Type.Object(
        { id: Type.Optional(NonEmptyString()), seq: Type.Optional(Type.Integer({ minimum: 1 })) },
        { additionalProperties: false },
      ),
    ),
  },
  { additionalProperties: false },
);
export type ChatMessage = Static<typeof ChatMessage>;

/** Text as the content of a message. */
export function textContent(text: string): ContentBlock[] {
  return [{ type: "text", text }];
}

/** The text blocks of a message joined (tool calls, images and thinking left out). */
export function chatMessageText(message: Pick<ChatMessage, "content">): string {
  return message.content
    .filter((block): block is Static<typeof TextContent> => block.type === "text")
    .map((block) => block.text)
    .join("");
}

/**
 * A stored message in the current shape, whatever shape it was written in: a line from before content blocks
 * (`{role, text, ts}`, role `tool` for tool output) becomes `{role, content: [{type: "text", text}], timestamp}`.
 * Fields this version does not know are kept.
 */
export function toChatMessage<T extends Record<string, unknown>>(stored: T): ChatMessage & Record<string, unknown> {
  if (Array.isArray(stored.content) && typeof stored.timestamp === "number")
    return stored as unknown as ChatMessage & Record<string, unknown>;
  const { text, ts, role, content, timestamp, ...rest } = stored as Record<string, unknown>;
  const blocks: ContentBlock[] = Array.isArray(content)
    ? (content as ContentBlock[])
    : typeof content === "string"
      ? textContent(content)
      : textContent(typeof text === "string" ? text : "");
  return {
    ...rest,
    role: (role === "tool" ? "toolResult" : role) as ChatRole,
    content: blocks,
    timestamp: typeof timestamp === "number" ? timestamp : typeof ts === "number" ? ts : 0,
  } as ChatMessage & Record<string, unknown>;
}
