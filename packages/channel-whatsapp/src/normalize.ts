import type { InboundMessage, MediaRef } from "@gateway/plugin-sdk";
import { getContentType, normalizeMessageContent, type proto, type WAMessage } from "@whiskeysockets/baileys";
import { type Identity, type IdentityDirectory, isGroupJid, isLidJid, isPhoneJid, normalizeJid } from "./identity.js";

/** A sender with the other forms of their id: access control matches an allowlist or a pairing against any of them. */
export type WhatsAppSender = InboundMessage["sender"] & { aliases: string[] };

/** An inbound message as the SDK wants it, before media are downloaded. */
export type NormalizedMessage = Omit<InboundMessage, "channel" | "accountId" | "sender"> & { sender: WhatsAppSender };

/** The media of a message that can be downloaded, and what the SDK calls it. */
export interface MediaPart {
  type: "image" | "video" | "audio" | "document" | "sticker";
  reference: MediaRef;
  content: proto.Message.IImageMessage | proto.Message.IDocumentMessage;
}

/** Who the bot is: its phone JID and LID (device suffixes removed). */
export interface SelfIdentity {
  ids: Set<string>;
}

const timestampOf = (value: WAMessage["messageTimestamp"]): number => {
  if (typeof value === "number") return value * 1000;
  if (value && typeof value === "object" && "toNumber" in value)
    return (value as { toNumber(): number }).toNumber() * 1000;
  return Date.now();
};

/** The message's own content with wrappers (ephemeral, view once, document with caption) taken off. */
export const contentOf = (message: WAMessage) => normalizeMessageContent(message.message ?? undefined);

/** The downloadable part of a message, if any. */
export function mediaPartOf(message: WAMessage): MediaPart | undefined {
  const content = contentOf(message);
  if (!content) return undefined;
  const pick = (
    type: MediaPart["type"],
    kind: MediaRef["kind"],
    part: (proto.Message.IImageMessage & { fileName?: string | null }) | null | undefined,
  ): MediaPart | undefined =>
    part
      ? {
          type,
          content: part,
          reference: {
            kind,
            ...(part.mimetype ? { mimeType: part.mimetype } : {}),
            ...(part.fileName ? { fileName: part.fileName } : {}),
            ...(part.fileLength !== undefined && part.fileLength !== null ? { size: Number(part.fileLength) } : {}),
          },
        }
      : undefined;
  return (
    pick("image", "photo", content.imageMessage) ??
    pick("document", "document", content.documentMessage as never) ??
    pick("audio", content.audioMessage?.ptt ? "voice" : "audio", content.audioMessage as never) ??
    pick("video", "video", content.videoMessage as never) ??
    pick("sticker", "sticker", content.stickerMessage as never)
  );
}

/** The text of a message: plain, extended (links, mentions, replies) or a media caption. */
export function textOf(content: proto.IMessage | undefined): string {
  return (
    content?.conversation ??
    content?.extendedTextMessage?.text ??
    content?.imageMessage?.caption ??
    content?.videoMessage?.caption ??
    content?.documentMessage?.caption ??
    ""
  );
}

function contextInfoOf(content: proto.IMessage | undefined): proto.IContextInfo | undefined {
  const type = content ? getContentType(content) : undefined;
  const part = type ? (content?.[type] as { contextInfo?: proto.IContextInfo | null } | undefined) : undefined;
  return part && typeof part === "object" ? (part.contextInfo ?? undefined) : undefined;
}

const isSelf = (self: SelfIdentity, jid: string | null | undefined) => Boolean(jid && self.ids.has(normalizeJid(jid)));

/**
 * A WhatsApp message in the SDK's terms, or undefined for what is not for the agent: our own messages, status
 * broadcasts and newsletters, protocol messages (receipts, edits, reactions), messages with neither text nor media.
 * DMs have the sender's chat as `peer`, keyed by LID when known; groups the group JID, with mention gating on the
 * bot's own JID and LID (a mention, or a reply to one of its messages).
 */
export function normalizeMessage(
  message: WAMessage,
  self: SelfIdentity,
  directory: IdentityDirectory,
): NormalizedMessage | undefined {
  const key = message.key;
  const chat = key.remoteJid;
  if (!chat || key.fromMe || !key.id) return undefined;
  const group = isGroupJid(chat);
  if (!group && !isPhoneJid(chat) && !isLidJid(chat)) return undefined; // status@broadcast, newsletters, calls
  const content = contentOf(message);
  if (!content || content.protocolMessage || content.reactionMessage) return undefined;
  const text = textOf(content);
  const media = mediaPartOf(message);
  if (!text && !media) return undefined;
  const keyWithAlternates = key as typeof key & { remoteJidAlt?: string | null; participantAlt?: string | null };
  const senderJid = group ? key.participant : chat;
  if (!senderJid) return undefined;
  const sender: Identity = directory.identify(
    senderJid,
    group ? keyWithAlternates.participantAlt : keyWithAlternates.remoteJidAlt,
  );
  const context = contextInfoOf(content);
  const quotedSender = context?.participant ? directory.identify(context.participant).id : undefined;
  const reply = context?.stanzaId
    ? {
        messageId: context.stanzaId,
        ...(quotedSender ? { senderId: quotedSender } : {}),
        isFromBot: isSelf(self, context.participant),
      }
    : undefined;
  const mentioned = (context?.mentionedJid ?? []).some((jid) => isSelf(self, jid));
  return {
    chatType: group ? "group" : "direct",
    peer: group ? chat : sender.id,
    sender: { id: sender.id, name: message.pushName ?? "", aliases: sender.aliases },
    text,
    ...(reply ? { replyTo: reply } : {}),
    wasMentioned: mentioned || reply?.isFromBot === true,
    messageId: key.id,
    timestamp: timestampOf(message.messageTimestamp),
    raw: message,
  };
}
