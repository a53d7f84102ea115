// @gateway/channel-whatsapp — WhatsApp for Gateway, on Baileys.
import { CHANNEL_SPECIFICATION_VERSION, type ChannelPlugin, defineChannelPlugin } from "@gateway/plugin-sdk";
import { type WhatsAppAccountConfig, whatsappConfigPlugin } from "./config.js";
import { WHATSAPP_TEXT_LIMIT } from "./outbound.js";
import { createBaileysSocket, type WhatsAppSocketFactory } from "./socket.js";
import { WhatsAppAccount } from "./whatsapp-account.js";

export { type AuthLock, lockCredentials } from "./auth-lock.js";
export { AuthStore, type AuthStoreOptions, type KeyChanges, type StoredCreds } from "./auth-store.js";
export { WhatsAppAccountConfig, whatsappConfigPlugin } from "./config.js";
export {
  type ConnectionState,
  type DisconnectDecision,
  decideDisconnect,
  describeDisconnect,
  disconnectCode,
} from "./disconnect.js";
export { markdownToWhatsApp } from "./format.js";
export { e164Of, type Identity, IdentityDirectory, normalizeJid, phoneJidOf } from "./identity.js";
export { type LoginOptions, WhatsAppLogin } from "./login.js";
export { type NormalizedMessage, normalizeMessage, type WhatsAppSender } from "./normalize.js";
export { WHATSAPP_TEXT_LIMIT } from "./outbound.js";
export { qrDataUrl, qrModules, renderQrPng, renderQrTerminal, type TerminalQrOptions } from "./qr.js";
export {
  type BaileysLogger,
  bridgeLogger,
  createBaileysSocket,
  type WhatsAppEvents,
  type WhatsAppSocket,
  type WhatsAppSocketFactory,
  type WhatsAppSocketOptions,
} from "./socket.js";
export {
  DEFAULT_WA_VERSION,
  WhatsAppAccount,
  type WhatsAppAccountOptions,
  type WhatsAppStatusFields,
} from "./whatsapp-account.js";

/** Options of `createWhatsAppChannel`. */
export interface WhatsAppChannelOptions {
  /** Makes the sockets (Baileys' by default; tests pass a fake). */
  socketFactory?: WhatsAppSocketFactory;
}

/** A WhatsApp channel plugin (`channels.whatsapp` in the gateway's config). */
export function createWhatsAppChannel(options: WhatsAppChannelOptions = {}): ChannelPlugin<WhatsAppAccountConfig> {
  const socketFactory = options.socketFactory ?? createBaileysSocket;
  return defineChannelPlugin<WhatsAppAccountConfig>({
    specificationVersion: CHANNEL_SPECIFICATION_VERSION,
    ...whatsappConfigPlugin,
    capabilities: {
      chatTypes: ["direct", "group"],
      media: true,
      threads: false,
      typing: true,
      maxTextLength: WHATSAPP_TEXT_LIMIT,
    },
    createAccount: (accountId, config) => new WhatsAppAccount(accountId, config, { socketFactory }),
  });
}

/** The WhatsApp channel plugin, on Baileys. */
export const whatsappChannel: ChannelPlugin<WhatsAppAccountConfig> = createWhatsAppChannel();

export default whatsappChannel;
