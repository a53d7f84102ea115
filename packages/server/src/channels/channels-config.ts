import { ChannelAccessConfig } from "@gateway/pairing";
import type { ChannelPlugin } from "@gateway/plugin-sdk";
import { type TObject, Type } from "@sinclair/typebox";
import { Value } from "@sinclair/typebox/value";

export { ChannelAccessConfig } from "@gateway/pairing";

/** `channels.<id>`: the default account's settings at the top, more under `accounts.<name>` (they inherit the top). */
export const ChannelSectionConfig = Type.Object(
  {
    ...ChannelAccessConfig.properties,
    accounts: Type.Optional(Type.Record(Type.String({ pattern: "^[A-Za-z0-9_-]+$" }), Type.Object({}))),
  },
  { additionalProperties: true },
);

export const PluginsConfig = Type.Array(Type.String({ minLength: 1 }), {
  description:
    'Channel plugin packages or paths (relative to the config file) to load at start: ["@scope/gateway-channel-x", "./my-channel.js"]',
});

/** The `channels` and `plugins` sections. */
export const channelsConfigSections = {
  channels: Type.Record(Type.String({ pattern: "^[a-z][a-z0-9-]*$" }), ChannelSectionConfig, {
    description: "Messaging channels by plugin id (telegram, …)",
  }),
  plugins: PluginsConfig,
} as const;

/** One account to run: its merged config (top level of the section, then its own). */
export interface ResolvedAccount {
  channel: string;
  accountId: string;
  /** Where its own settings are in the config (for messages). */
  path: string;
  config: Record<string, unknown> & ChannelAccessConfig;
}

/**
 * The accounts a channel section asks for: `default` from the top level when there are no `accounts`, else each
 * account over the top level. Disabled ones are left out.
 */
export function resolveAccounts(channel: string, section: Record<string, unknown> | undefined): ResolvedAccount[] {
  if (!section || section.enabled === false) return [];
  const { accounts, ...top } = section as { accounts?: Record<string, Record<string, unknown>> };
  if (!accounts || Object.keys(accounts).length === 0)
    return [{ channel, accountId: "default", path: `channels.${channel}`, config: top as ResolvedAccount["config"] }];
  return Object.entries(accounts)
    .map(([accountId, own]) => ({
      channel,
      accountId,
      path: `channels.${channel}.accounts.${accountId}`,
      config: { ...top, ...own } as ResolvedAccount["config"],
    }))
    .filter((account) => account.config.enabled !== false);
}

/**
 * What is wrong with an account's config, each with its path: the plugin's schema, the access settings, keys
 * neither knows (typos), and `dmPolicy: "open"` without `"*"` in `allowFrom`.
 */
export function accountConfigIssues(
  plugin: Pick<ChannelPlugin, "meta" | "configSchema">,
  account: ResolvedAccount,
): string[] {
  const { path } = account;
  const issues: string[] = [];
  const known = new Set([
    ...Object.keys(ChannelAccessConfig.properties),
    ...Object.keys(plugin.configSchema.properties),
  ]);
  for (const key of Object.keys(account.config)) {
    if (!known.has(key)) issues.push(`${path}.${key}: unknown setting for ${plugin.meta.label}`);
  }
  for (const schema of [ChannelAccessConfig, plugin.configSchema] as TObject[]) {
    const subset = Object.fromEntries(Object.entries(account.config).filter(([key]) => key in schema.properties));
    for (const error of Value.Errors(schema, subset)) {
      issues.push(`${path}${error.path.replaceAll("/", ".")}: ${error.message}`);
    }
  }
  for (const pattern of account.config.mentionPatterns ?? []) {
    try {
      new RegExp(pattern, "i");
    } catch (error) {
      issues.push(`${path}.mentionPatterns: ${(error as Error).message}`);
    }
  }
  if (account.config.dmPolicy === "open" && !account.config.allowFrom?.includes("*"))
    issues.push(`${path}.allowFrom: dmPolicy "open" needs "*" in allowFrom (anyone may then talk to the agent)`);
  return issues;
}
