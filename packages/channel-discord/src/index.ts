// @gateway/channel-discord — Discord for Gateway, on discord.js.
import { CHANNEL_SPECIFICATION_VERSION, type ChannelPlugin, defineChannelPlugin } from "@gateway/plugin-sdk";
import { type DiscordAccountConfig, discordConfigPlugin } from "./config.js";
import { DISCORD_TEXT_LIMIT, DiscordAccount } from "./discord-account.js";

export { type AttachmentLike, downloadAttachments, mediaKind } from "./attachments.js";
export {
  DiscordAccountConfig,
  DiscordChannelAccess,
  DiscordGuildAccess,
  discordConfigPlugin,
} from "./config.js";
export { DISCORD_TEXT_LIMIT, DiscordAccount, type DiscordProbe } from "./discord-account.js";
export { classifyDiscordError, closeCodeName, FATAL_CLOSE_CODES, fatalCloseError } from "./errors.js";
export { GatewayPacer, PacedShardingStrategy, type PacerEvents, type ReconnectOptions } from "./gateway-pacing.js";
export { type GuildMessageFacts, guildAccess } from "./guild-access.js";
export { type MessagePlace, type NormalizedMessage, normalizeMessage, placeOf } from "./normalize.js";
export {
  type IdentifyDelay,
  SessionStartGuard,
  type SessionStartGuardOptions,
  type SessionStartLimit,
} from "./session-starts.js";

/** The Discord channel plugin: `channels.discord` in the gateway's config. */
export const discordChannel: ChannelPlugin<DiscordAccountConfig> = defineChannelPlugin<DiscordAccountConfig>({
  specificationVersion: CHANNEL_SPECIFICATION_VERSION,
  ...discordConfigPlugin,
  capabilities: {
    chatTypes: ["direct", "group", "thread"],
    media: true,
    threads: true,
    typing: true,
    maxTextLength: DISCORD_TEXT_LIMIT,
  },
  createAccount: (accountId, config) => new DiscordAccount(accountId, config),
});

export default discordChannel;
