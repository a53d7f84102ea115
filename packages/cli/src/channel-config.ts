// The built-in channels' own settings, checked offline (`gateway config validate`, `gateway doctor`) the way the
// running gateway checks them, without loading any channel library.
import { slackConfigPlugin } from "@gateway/channel-slack/config";
import { telegramConfigPlugin } from "@gateway/channel-telegram/config";
import { accountConfigIssues, resolveAccounts } from "@gateway/server/config";

const BUILT_IN_CHANNELS = [telegramConfigPlugin, slackConfigPlugin];

/** Problems in `channels.<built-in>` sections, each with its path; plugin channels are checked by the gateway. */
export function builtInChannelIssues(config: { channels?: Record<string, unknown> }): string[] {
  const issues: string[] = [];
  for (const plugin of BUILT_IN_CHANNELS) {
    const section = config.channels?.[plugin.id] as Record<string, unknown> | undefined;
    for (const account of resolveAccounts(plugin.id, section)) issues.push(...accountConfigIssues(plugin, account));
  }
  return issues;
}
