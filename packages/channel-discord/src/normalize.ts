import type { InboundMessage } from "@gateway/plugin-sdk";
import type { Message } from "discord.js";

/** An inbound message as the SDK wants it, before attachments are downloaded. */
export type NormalizedMessage = Omit<InboundMessage, "channel" | "accountId">;

/** Where a message was posted, in the SDK's terms and for the guild allowlists. */
export interface MessagePlace {
  chatType: InboundMessage["chatType"];
  /** The DM channel, or the guild channel (a thread's or forum post's parent). */
  peer: string;
  /** The thread or forum post the message is in. */
  threadId?: string;
  guildId?: string;
}

/** Where `message` was posted: a DM, a guild channel, or a thread / forum post under its parent channel. */
export function placeOf(message: Message): MessagePlace {
  const channel = message.channel;
  if (channel.isDMBased()) return { chatType: "direct", peer: channel.id };
  const guildId = message.guildId ?? undefined;
  if (channel.isThread())
    return {
      chatType: "thread",
      peer: channel.parentId ?? channel.id,
      threadId: channel.id,
      ...(guildId ? { guildId } : {}),
    };
  return { chatType: "group", peer: channel.id, ...(guildId ? { guildId } : {}) };
}

/** The roles that stand for the bot in the message's guild: its managed role and the roles its member has. */
function botRoleIds(message: Message, botId: string): Set<string> {
  const ids = new Set<string>();
  const guild = message.guild;
  if (!guild) return ids;
  const managed = guild.roles.botRoleFor(botId);
  if (managed) ids.add(managed.id);
  for (const role of guild.members.me?.roles.cache.values() ?? []) if (role.id !== guild.id) ids.add(role.id);
  return ids;
}

/**
 * A Discord message in the SDK's terms: DMs are direct, guild channels groups, threads and forum posts threads under
 * their parent channel. Mentions are a mention of the bot user or of its role, or a reply to the bot; the text is
 * what people see (`<@123>` becomes `@name`). Undefined for what carries nothing for the agent: the bot's own
 * messages, system messages, other bots (unless `allowBots`), empty messages.
 */
export function normalizeMessage(
  message: Message,
  botId: string,
  options: { allowBots?: boolean } = {},
): NormalizedMessage | undefined {
  const author = message.author;
  if (author.id === botId || message.system) return undefined;
  if ((author.bot || message.webhookId) && !options.allowBots) return undefined;
  const text = message.content ? message.cleanContent : "";
  if (!text && message.attachments.size === 0) return undefined;
  const place = placeOf(message);
  const repliedTo = message.reference?.messageId;
  const repliedUser = message.mentions.repliedUser;
  const repliesToBot = repliedTo !== undefined && repliedUser?.id === botId;
  const roles = botRoleIds(message, botId);
  const mentioned =
    message.mentions.users.has(botId) || message.mentions.roles.some((role) => roles.has(role.id)) || repliesToBot;
  const name = message.member?.displayName ?? author.globalName ?? author.username;
  return {
    chatType: place.chatType,
    peer: place.peer,
    ...(place.threadId ? { threadId: place.threadId } : {}),
    sender: { id: author.id, name, username: author.username },
    text,
    ...(repliedTo
      ? {
          replyTo: {
            messageId: repliedTo,
            ...(repliedUser ? { senderId: repliedUser.id } : {}),
            isFromBot: repliesToBot,
          },
        }
      : {}),
    wasMentioned: mentioned,
    messageId: message.id,
    timestamp: message.createdTimestamp,
    raw: message,
  };
}
