// @gateway/channel-telegram — Telegram for Gateway, on grammY.
import { type ChannelPlugin, defineChannelPlugin } from "@gateway/plugin-sdk";
import { TelegramAccountConfig } from "./config.js";
import { TELEGRAM_TEXT_LIMIT, TelegramAccount } from "./telegram-account.js";

export { TelegramAccountConfig } from "./config.js";
export { markdownToTelegramHtml } from "./format.js";
export { type NormalizedMessage, normalizeMessage } from "./normalize.js";
export { classifyTelegramError, TELEGRAM_TEXT_LIMIT, TelegramAccount } from "./telegram-account.js";

/** The Telegram channel plugin: `channels.telegram` in the gateway's config. */
export const telegramChannel: ChannelPlugin<TelegramAccountConfig> = defineChannelPlugin<TelegramAccountConfig>({
  id: "telegram",
  meta: { label: "Telegram", docs: "https://core.telegram.org/bots/api" },
  capabilities: {
    chatTypes: ["direct", "group", "channel", "thread"],
    media: true,
    reactions: false,
    edit: false,
    threads: true,
    typing: true,
    maxTextLength: TELEGRAM_TEXT_LIMIT,
  },
  configSchema: TelegramAccountConfig,
  createAccount: (accountId, config) => new TelegramAccount(accountId, config),
});

export default telegramChannel;
