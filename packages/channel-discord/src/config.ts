import { type Static, Type } from "@sinclair/typebox";

const People = Type.Array(Type.String({ minLength: 1 }), {
  description: "User ids or usernames (`@name` or `name`); empty or absent: anyone",
});
const Roles = Type.Array(Type.String({ pattern: "^\\d+$" }), {
  description: "Role ids; a member with one of them may address the bot",
});

/** One channel of a guild under `guilds.<id>.channels`: threads and forum posts follow their parent channel. */
export const DiscordChannelAccess = Type.Object(
  {
    enabled: Type.Optional(Type.Boolean({ description: "false: the bot ignores this channel. @default true" })),
    users: Type.Optional(People),
    roles: Type.Optional(Roles),
  },
  { additionalProperties: false },
);
export type DiscordChannelAccess = Static<typeof DiscordChannelAccess>;

/** One guild (server) under `guilds`: who may address the bot there and in which channels. */
export const DiscordGuildAccess = Type.Object(
  {
    enabled: Type.Optional(Type.Boolean({ description: "false: the bot ignores this guild. @default true" })),
    users: Type.Optional(People),
    roles: Type.Optional(Roles),
    channels: Type.Optional(
      Type.Record(Type.String({ pattern: "^(\\d+|\\*)$" }), DiscordChannelAccess, {
        description: 'Only these channels (by id; "*": all), each with its own users/roles. @default every channel',
      }),
    ),
  },
  { additionalProperties: false },
);
export type DiscordGuildAccess = Static<typeof DiscordGuildAccess>;

/** One Discord bot account: `channels.discord` (the default account) or `channels.discord.accounts.<name>`. */
export const DiscordAccountConfig = Type.Object(
  {
    token: Type.Optional(
      Type.String({
        minLength: 1,
        description:
          "The bot token (secret): Developer Portal → your application → Bot → Reset Token. `${DISCORD_BOT_TOKEN}` reads it from the environment.",
      }),
    ),
    apiRoot: Type.Optional(
      Type.String({
        pattern: "^https?://[^\\s]+[^/\\s]$",
        description:
          "REST API root without the version or a trailing slash (the gateway URL comes from GET /gateway/bot). @default https://discord.com/api",
      }),
    ),
    guilds: Type.Optional(
      Type.Record(Type.String({ pattern: "^(\\d+|\\*)$" }), DiscordGuildAccess, {
        description:
          'Guilds (servers) by id ("*": any) the bot listens in, with channel and user/role allowlists. @default every guild the bot is in',
      }),
    ),
    allowBots: Type.Optional(
      Type.Boolean({ description: "Messages from other bots reach the agent too. @default false" }),
    ),
    mediaMaxMb: Type.Optional(
      Type.Number({ minimum: 0, maximum: 500, description: "Larger attachments are not downloaded. @default 20" }),
    ),
    reconnect: Type.Optional(
      Type.Object(
        {
          baseMs: Type.Optional(
            Type.Integer({ minimum: 50, description: "First delay before reconnecting after a drop. @default 1000" }),
          ),
          maxMs: Type.Optional(
            Type.Integer({ minimum: 1000, description: "Longest delay between reconnects. @default 60000" }),
          ),
          stableAfterMs: Type.Optional(
            Type.Integer({
              minimum: 100,
              description: "A connection up this long resets the backoff to its first step. @default 30000",
            }),
          ),
        },
        { additionalProperties: false },
      ),
    ),
    startTimeoutMs: Type.Optional(
      Type.Integer({
        minimum: 1000,
        description: "How long a start may take to reach READY before it is retried. @default 30000",
      }),
    ),
  },
  { additionalProperties: true },
);
export type DiscordAccountConfig = Static<typeof DiscordAccountConfig>;

/** What the gateway needs to check a Discord config without loading discord.js (`gateway config validate`). */
export const discordConfigPlugin = {
  id: "discord",
  meta: {
    label: "Discord",
    docs: "https://discord.com/developers/docs/intro",
    setup:
      "create an application with a bot at https://discord.com/developers/applications (turn on Message Content Intent), then set channels.discord.token",
  },
  configSchema: DiscordAccountConfig,
} as const;
