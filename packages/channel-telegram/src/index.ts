// @gateway/channel-telegram — Telegram for Gateway, on grammY.
import { CHANNEL_SPECIFICATION_VERSION, type ChannelPlugin, defineChannelPlugin } from "@gateway/plugin-sdk";
import { type TelegramAccountConfig, telegramConfigPlugin } from "./config.js";
import { TELEGRAM_TEXT_LIMIT, TelegramAccount } from "./telegram-account.js";

export { TelegramAccountConfig, telegramConfigPlugin } from "./config.js";
export { markdownToTelegramHtml } from "./format.js";
export { type NormalizedMessage, normalizeMessage } from "./normalize.js";
export { classifyTelegramError, TELEGRAM_TEXT_LIMIT, TelegramAccount } from "./telegram-account.js";

/** The Telegram channel plugin: `channels.telegram` in the gateway's config. */
export const telegramChannel: ChannelPlugin<TelegramAccountConfig> = defineChannelPlugin<TelegramAccountConfig>({
  specificationVersion: CHANNEL_SPECIFICATION_VERSION,
  ...telegramConfigPlugin,
  capabilities: {
    chatTypes: ["direct", "group", "channel", "thread"],
    media: true,
    threads: true,
    typing: true,
    maxTextLength: TELEGRAM_TEXT_LIMIT,
  },
  createAccount: (accountId, config) => new TelegramAccount(accountId, config),
});

export default telegramChannel;
