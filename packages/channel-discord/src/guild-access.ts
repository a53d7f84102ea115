import type { DiscordAccountConfig, DiscordChannelAccess, DiscordGuildAccess } from "./config.js";

/** Who wrote a guild message, and where (a thread or forum post counts as its parent channel). */
export interface GuildMessageFacts {
  guildId: string;
  /** The guild channel: a thread's or forum post's parent. */
  channelId: string;
  userId: string;
  username: string;
  roleIds: readonly string[];
}

/** Whether the user is in `users` (ids, `@name` or `name`, any case) or has one of `roles`. */
function personListed(
  facts: GuildMessageFacts,
  users: readonly string[] | undefined,
  roles: readonly string[] | undefined,
): boolean {
  const username = facts.username.toLowerCase();
  const byUser = (users ?? []).some(
    (entry) => entry === facts.userId || entry.replace(/^@/, "").toLowerCase() === username,
  );
  const byRole = (roles ?? []).some((role) => facts.roleIds.includes(role));
  return byUser || byRole;
}

/**
 * Whether `channels.discord.guilds` lets a guild message through, and if not, why. Without `guilds` every guild
 * passes (the gateway's `groupPolicy`/`groups` still apply). With it, only listed guilds (or `"*"`); a guild with
 * `channels` only those channels (or `"*"`); and where `users`/`roles` are set (the channel's replace the guild's),
 * only those people.
 */
export function guildAccess(
  guilds: DiscordAccountConfig["guilds"],
  facts: GuildMessageFacts,
): { allowed: true } | { allowed: false; reason: string } {
  if (!guilds) return { allowed: true };
  const guild: DiscordGuildAccess | undefined = guilds[facts.guildId] ?? guilds["*"];
  if (!guild) return { allowed: false, reason: `guild ${facts.guildId} is not under channels.discord.guilds` };
  if (guild.enabled === false) return { allowed: false, reason: `guild ${facts.guildId} is disabled` };
  let channel: DiscordChannelAccess | undefined;
  if (guild.channels) {
    channel = guild.channels[facts.channelId] ?? guild.channels["*"];
    if (!channel)
      return { allowed: false, reason: `channel ${facts.channelId} is not under guilds.${facts.guildId}.channels` };
    if (channel.enabled === false) return { allowed: false, reason: `channel ${facts.channelId} is disabled` };
  }
  const users = channel?.users ?? (channel?.roles ? undefined : guild.users);
  const roles = channel?.roles ?? (channel?.users ? undefined : guild.roles);
  if ((users?.length || roles?.length) && !personListed(facts, users, roles))
    return { allowed: false, reason: `${facts.userId} is not among the users/roles allowed in ${facts.channelId}` };
  return { allowed: true };
}
