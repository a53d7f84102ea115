// Sending: a chat id in any accepted form resolved to the JID to send to (a phone number to its LID when WhatsApp has
// one), text chunked at 4,096 and rendered to WhatsApp's formatting, one message per second per chat, the message a
// reply answers quoted (by policy), images and documents.
import { stat } from "node:fs/promises";
import { basename, extname } from "node:path";
import {
  type ChannelError,
  ChannelPlatformError,
  ChannelPluginError,
  chunkText,
  type MediaRef,
  type OutboundMessage,
  Pacer,
  retry,
  type SendResult,
} from "@gateway/plugin-sdk";
import type { AnyMessageContent, proto, WAMessage } from "@whiskeysockets/baileys";
import { markdownToWhatsApp } from "./format.js";
import { type IdentityDirectory, isGroupJid, isLidJid, normalizeJid, phoneJidOf } from "./identity.js";
import type { WhatsAppSocket } from "./socket.js";

/** WhatsApp has no documented text limit; replies are split at this many characters. */
export const WHATSAPP_TEXT_LIMIT = 4096;
const REMEMBERED = 1_000;

/** What the sender needs from its account. */
export interface OutboundOptions {
  directory: IdentityDirectory;
  quoteReplies: "always" | "groups" | "never";
  /** The socket once it is open (waits a little during a reconnect). */
  openSocket(operation: string, timeoutMs?: number): Promise<WhatsAppSocket>;
  classify(operation: string, error: unknown): ChannelError;
}

const MIME_TYPES: Record<string, string> = {
  ".pdf": "application/pdf",
  ".txt": "text/plain",
  ".csv": "text/csv",
  ".json": "application/json",
  ".zip": "application/zip",
  ".png": "image/png",
  ".jpg": "image/jpeg",
  ".jpeg": "image/jpeg",
  ".mp3": "audio/mpeg",
  ".ogg": "audio/ogg",
  ".mp4": "video/mp4",
};

const mimeTypeOf = (path: string) => MIME_TYPES[extname(path).toLowerCase()] ?? "application/octet-stream";

function remember<T>(map: Map<string, T>, id: string, value: T): void {
  map.delete(id);
  map.set(id, value);
  if (map.size > REMEMBERED) map.delete(map.keys().next().value!);
}

/** The sending side of one account. */
export class WhatsAppOutbound {
  readonly #options: OutboundOptions;
  readonly #pacer = new Pacer({ globalPerSecond: 20, perChatIntervalMs: 1_000 });
  /** Inbound messages by id, for quoting the one a reply answers. */
  readonly #recent = new Map<string, WAMessage>();
  /** What we sent, by id, for WhatsApp's retry requests (`getMessage`). */
  readonly #sent = new Map<string, proto.IMessage>();

  constructor(options: OutboundOptions) {
    this.#options = options;
  }

  /** Keep an inbound message so a reply to it can quote it. */
  rememberInbound(id: string, message: WAMessage): void {
    remember(this.#recent, id, message);
  }

  /** A message we sent, for WhatsApp's retry requests. */
  sentMessage(id: string): proto.IMessage | undefined {
    return this.#sent.get(id);
  }

  /** A chat id in any accepted form → the JID to send to: a phone number goes to its LID when WhatsApp has one. */
  async resolvePeer(peer: string, operation: string): Promise<string> {
    if (isGroupJid(peer)) return peer;
    const normalized = normalizeJid(peer);
    if (isLidJid(normalized)) return normalized;
    const phone = phoneJidOf(peer);
    if (!phone)
      throw new ChannelPluginError(
        operation,
        `"${peer}" is not a WhatsApp chat: use a phone number (+15551234567), a …@s.whatsapp.net or …@lid JID, or a group …@g.us`,
        { fatal: true },
      );
    const known = this.#options.directory.lidFor(phone);
    if (known) return known;
    // Sends to a bare number can be reported sent and never arrive where WhatsApp moved the person to a LID.
    const socket = await this.#options.openSocket(operation);
    let timer: number | NodeJS.Timeout | undefined;
    const lid = await Promise.race([
      socket.lidForPhone(phone).catch(() => undefined),
      new Promise<undefined>((resolve) => {
        timer = setTimeout(resolve, 5_000) as number | NodeJS.Timeout;
      }),
    ]);
    clearTimeout(timer);
    if (lid && isLidJid(normalizeJid(lid))) {
      this.#options.directory.learn(phone, lid);
      return normalizeJid(lid);
    }
    return phone;
  }

  /** The message a reply quotes: the inbound one when we still have it, else a reference by id. */
  #quoted(jid: string, peer: string, messageId: string | undefined): WAMessage | undefined {
    if (!messageId) return undefined;
    const policy = this.#options.quoteReplies;
    if (policy === "never" || (policy === "groups" && !isGroupJid(jid))) return undefined;
    return (
      this.#recent.get(messageId) ?? {
        key: { remoteJid: isGroupJid(peer) ? peer : jid, id: messageId, fromMe: false },
        message: { conversation: "" },
      }
    );
  }

  async #send(
    operation: string,
    jid: string,
    content: AnyMessageContent,
    quoted: WAMessage | undefined,
  ): Promise<string> {
    await this.#pacer.wait(jid);
    return retry(
      async () => {
        const socket = await this.#options.openSocket(operation);
        let sent: WAMessage | undefined;
        try {
          sent = await socket.sendMessage(jid, content, quoted ? { quoted } : undefined);
        } catch (error) {
          throw this.#options.classify(operation, error);
        }
        const id = sent?.key.id;
        if (!id) throw new ChannelPlatformError(operation, "WhatsApp did not return a message id");
        if (sent?.message) remember(this.#sent, id, sent.message);
        return id;
      },
      { attempts: 3, baseMs: 1_000 },
    );
  }

  /** Text of any length: chunked, formatted, paced; the first chunk quotes the message it answers (by policy). */
  async sendText(message: OutboundMessage): Promise<SendResult> {
    const jid = await this.resolvePeer(message.peer, "sendMessage");
    const quoted = this.#quoted(jid, message.peer, message.replyToMessageId);
    const ids: string[] = [];
    for (const [index, chunk] of chunkText(message.text, WHATSAPP_TEXT_LIMIT).entries())
      ids.push(
        await this.#send("sendMessage", jid, { text: markdownToWhatsApp(chunk) }, index === 0 ? quoted : undefined),
      );
    return { messageId: ids[0] ?? "", messageIds: ids };
  }

  /** Images go as images (the caption under them), anything else as a document with its file name. */
  async sendMedia(message: OutboundMessage & { media: MediaRef & { path: string } }): Promise<SendResult> {
    const { media } = message;
    const info = await stat(media.path).catch((error: Error) => {
      throw new ChannelPluginError("sendMedia", `cannot read ${media.path}: ${error.message}`, { fatal: true });
    });
    if (!info.isFile()) throw new ChannelPluginError("sendMedia", `${media.path} is not a file`, { fatal: true });
    const jid = await this.resolvePeer(message.peer, "sendMedia");
    const quoted = this.#quoted(jid, message.peer, message.replyToMessageId);
    const [caption = "", ...rest] = chunkText(message.text, WHATSAPP_TEXT_LIMIT);
    const image = media.kind === "photo" || (media.mimeType ?? "").startsWith("image/");
    const content: AnyMessageContent = image
      ? {
          image: { url: media.path },
          caption: markdownToWhatsApp(caption),
          ...(media.mimeType ? { mimetype: media.mimeType } : {}),
        }
      : {
          document: { url: media.path },
          mimetype: media.mimeType ?? mimeTypeOf(media.path),
          fileName: media.fileName ?? basename(media.path),
          ...(caption ? { caption: markdownToWhatsApp(caption) } : {}),
        };
    const ids = [await this.#send("sendMedia", jid, content, quoted)];
    for (const chunk of rest)
      ids.push(await this.#send("sendMessage", jid, { text: markdownToWhatsApp(chunk) }, undefined));
    return { messageId: ids[0]!, messageIds: ids };
  }

  /** "typing…" (WhatsApp's `composing` presence) in a chat. */
  async sendTyping(peer: string): Promise<void> {
    const jid = await this.resolvePeer(peer, "sendPresenceUpdate");
    const socket = await this.#options.openSocket("sendPresenceUpdate", 0);
    await socket.sendPresenceUpdate("composing", jid).catch((error: unknown) => {
      throw this.#options.classify("sendPresenceUpdate", error);
    });
  }
}
