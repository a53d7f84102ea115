import type { InboundMessage } from "@gateway/plugin-sdk";
import type { Message, User, UserFromGetMe } from "grammy/types";

/** An inbound message as the SDK wants it, before media are downloaded. */
export type NormalizedMessage = Omit<InboundMessage, "channel" | "accountId">;

const fullName = (user: Pick<User, "first_name" | "last_name">) =>
  [user.first_name, user.last_name].filter(Boolean).join(" ");

/**
 * A Telegram message in the SDK's terms: private chats are direct, groups and supergroups groups (a forum topic is
 * its `threadId`), channels channel. Undefined for what carries nothing for the agent (service messages, the bot's
 * own messages).
 */
export function normalizeMessage(message: Message, me: UserFromGetMe): NormalizedMessage | undefined {
  if (message.from?.id === me.id) return undefined;
  const text = message.text ?? message.caption ?? "";
  if (!text && !message.photo && !message.document) return undefined;
  const chatType =
    message.chat.type === "private" ? "direct" : message.chat.type === "channel" ? "channel" : ("group" as const);
  const sender = message.from
    ? {
        id: String(message.from.id),
        name: fullName(message.from),
        ...(message.from.username ? { username: message.from.username } : {}),
      }
    : {
        id: String(message.sender_chat?.id ?? message.chat.id),
        name: message.sender_chat && "title" in message.sender_chat ? message.sender_chat.title : "",
      };
  // In a forum, every message of a topic "replies" to the topic's first message: that is not a reply to anyone.
  const topicRoot = message.is_topic_message && message.reply_to_message?.message_id === message.message_thread_id;
  const reply = message.reply_to_message && !topicRoot ? message.reply_to_message : undefined;
  return {
    chatType,
    peer: String(message.chat.id),
    sender,
    text,
    ...(message.is_topic_message && message.message_thread_id !== undefined
      ? { threadId: String(message.message_thread_id) }
      : {}),
    ...(reply
      ? {
          replyTo: {
            messageId: String(reply.message_id),
            ...(reply.from ? { senderId: String(reply.from.id) } : {}),
            isFromBot: reply.from?.id === me.id,
          },
        }
      : {}),
    wasMentioned: mentionsBot(message, me) || reply?.from?.id === me.id,
    messageId: String(message.message_id),
    timestamp: message.date * 1000,
    raw: message,
  };
}

/** `@botname` in the text, a text mention of the bot, or `/command@botname`. */
function mentionsBot(message: Message, me: UserFromGetMe): boolean {
  const text = message.text ?? message.caption ?? "";
  const entities = message.entities ?? message.caption_entities ?? [];
  const handle = `@${me.username}`.toLowerCase();
  return entities.some((entity) => {
    const slice = text.slice(entity.offset, entity.offset + entity.length).toLowerCase();
    if (entity.type === "mention") return slice === handle;
    if (entity.type === "text_mention") return entity.user.id === me.id;
    if (entity.type === "bot_command") return slice.endsWith(handle);
    return false;
  });
}
