// @gateway/channel-slack — Slack for Gateway, on Bolt: Socket Mode or the HTTP Events API.
import { CHANNEL_SPECIFICATION_VERSION, type ChannelPlugin, defineChannelPlugin } from "@gateway/plugin-sdk";
import { type SlackAccountConfig, slackConfigPlugin } from "./config.js";
import type { SlackEventDedupe } from "./dedupe.js";
import { SLACK_TEXT_LIMIT } from "./format.js";
import { SlackAccount } from "./slack-account.js";

export { SlackAccountConfig, SlackSocketConfig, slackConfigPlugin } from "./config.js";
export {
  FleetEventDedupe,
  MemoryEventDedupe,
  type MemoryEventDedupeOptions,
  type SlackEventDedupe,
} from "./dedupe.js";
export { classifySlackError } from "./errors.js";
export { markdownToMrkdwn, SLACK_TEXT_LIMIT, slackTextToPlain, toSlackMessages } from "./format.js";
export { type NormalizedMessage, normalizeMessage, type SlackMessageEvent } from "./normalize.js";
export { verifySlackSignature } from "./signature.js";
export { SlackAccount, type SlackAccountOptions } from "./slack-account.js";
export type { SocketLinkState } from "./socket-link.js";

/** Options of the Slack plugin. */
export interface SlackChannelOptions {
  /**
   * The dedupe of each account's events (one per event id). Gateways that share one Slack app (Socket Mode
   * active-active) pass one backed by a shared store. @default in memory, per account
   */
  dedupe?: (accountId: string) => SlackEventDedupe;
}

/** A Slack channel plugin (`channels.slack` in the gateway's config). */
export function createSlackChannel(options: SlackChannelOptions = {}): ChannelPlugin<SlackAccountConfig> {
  return defineChannelPlugin<SlackAccountConfig>({
    specificationVersion: CHANNEL_SPECIFICATION_VERSION,
    ...slackConfigPlugin,
    // Socket Mode allows 10 sockets per app and delivers each event on one of them: every instance keeps one open.
    instances: "many",
    capabilities: {
      chatTypes: ["direct", "group", "channel", "thread"],
      media: true,
      threads: true,
      typing: true,
      maxTextLength: SLACK_TEXT_LIMIT,
    },
    createAccount: (accountId, config) =>
      new SlackAccount(accountId, config, options.dedupe ? { dedupe: options.dedupe(accountId) } : {}),
  });
}

/** The Slack channel plugin with its defaults. */
export const slackChannel: ChannelPlugin<SlackAccountConfig> = createSlackChannel();

export default slackChannel;
