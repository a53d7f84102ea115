import type { ChatType, InboundMessage } from "@gateway/plugin-sdk";
import { type NameLookup, slackTextToPlain } from "./format.js";

/** An inbound message as the SDK wants it, before files are downloaded. */
export type NormalizedMessage = Omit<InboundMessage, "channel" | "accountId">;

/** A file as Slack puts it on a message. */
export interface SlackFile {
  id: string;
  name?: string;
  title?: string;
  mimetype?: string;
  size?: number;
  url_private_download?: string;
  url_private?: string;
  mode?: string;
}

/** The fields of `message` and `app_mention` events the plugin reads. */
export interface SlackMessageEvent {
  type: string;
  subtype?: string;
  channel: string;
  channel_type?: string;
  user?: string;
  bot_id?: string;
  text?: string;
  ts: string;
  thread_ts?: string;
  parent_user_id?: string;
  files?: SlackFile[];
}

/** Who the bot is, and what the normalizer may look up. */
export interface NormalizeContext {
  botUserId: string;
  botId: string | undefined;
  names: NameLookup;
  /** Threads the bot has posted in: a reply there is addressed to it. */
  inBotThread(channel: string, threadTs: string): boolean;
}

/** Subtypes that are a person saying something; every other subtype (edits, deletions, joins, bots) is not. */
const SPOKEN_SUBTYPES = new Set([undefined, "file_share", "thread_broadcast", "me_message"]);

/** The kind of conversation: from `channel_type`, else from the id (D… a DM, C… a channel, G… private or group DM). */
export function chatTypeOf(channel: string, channelType?: string): ChatType {
  const type = channelType ?? (channel.startsWith("D") ? "im" : channel.startsWith("C") ? "channel" : "group");
  if (type === "im") return "direct";
  if (type === "channel") return "channel";
  return "group";
}

/**
 * A Slack `message` or `app_mention` event in the SDK's terms: DMs direct, public channels channel, private channels
 * and group DMs group; a reply in a thread carries the thread's ts as `threadId`. Undefined for what is nobody
 * speaking to the agent: the bot's own and other bots' messages, edits (`message_changed`), deletions, joins.
 */
export function normalizeMessage(event: SlackMessageEvent, context: NormalizeContext): NormalizedMessage | undefined {
  if (event.type !== "message" && event.type !== "app_mention") return undefined;
  if (!SPOKEN_SUBTYPES.has(event.subtype)) return undefined;
  if (!event.user || event.user === context.botUserId) return undefined;
  if (event.bot_id) return undefined;
  const text = slackTextToPlain(event.text ?? "", context.names);
  if (!text && !event.files?.length) return undefined;
  const threadId = event.thread_ts && event.thread_ts !== event.ts ? event.thread_ts : undefined;
  const mention = `<@${context.botUserId}`;
  const addressed =
    event.type === "app_mention" ||
    (event.text ?? "").includes(mention) ||
    (threadId !== undefined &&
      (event.parent_user_id === context.botUserId || context.inBotThread(event.channel, threadId)));
  const name = context.names(event.user);
  return {
    chatType: chatTypeOf(event.channel, event.channel_type),
    peer: event.channel,
    sender: { id: event.user, ...(name ? { name } : {}) },
    text,
    ...(threadId ? { threadId } : {}),
    ...(threadId && event.parent_user_id
      ? {
          replyTo: {
            messageId: threadId,
            senderId: event.parent_user_id,
            isFromBot: event.parent_user_id === context.botUserId,
          },
        }
      : {}),
    wasMentioned: addressed,
    messageId: event.ts,
    timestamp: Math.round(Number(event.ts) * 1000),
    raw: event,
  };
}
