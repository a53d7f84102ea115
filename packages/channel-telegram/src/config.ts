import { type Static, Type } from "@sinclair/typebox";

/** One Telegram bot account: `channels.telegram` (the default account) or `channels.telegram.accounts.<name>`. */
export const TelegramAccountConfig = Type.Object(
  {
    botToken: Type.Optional(
      Type.String({
        minLength: 1,
        description: "The bot's token from @BotFather (secret). `${TELEGRAM_BOT_TOKEN}` reads it from the environment.",
      }),
    ),
    apiRoot: Type.Optional(
      Type.String({
        pattern: "^https?://[^\\s]+[^/\\s]$",
        description: "Bot API server, without a trailing slash. @default https://api.telegram.org",
      }),
    ),
    mode: Type.Optional(
      Type.Union([Type.Literal("polling"), Type.Literal("webhook")], {
        description:
          "How updates arrive: long polling (works behind NAT) or a webhook on the gateway's port. @default polling",
      }),
    ),
    pollTimeoutSeconds: Type.Optional(
      Type.Integer({ minimum: 0, maximum: 50, description: "How long one getUpdates waits for updates. @default 30" }),
    ),
    webhook: Type.Optional(
      Type.Object(
        {
          url: Type.String({
            pattern: "^https?://",
            description:
              "The public URL Telegram posts updates to; your reverse proxy forwards it to the local path the gateway logs (/channels/telegram/<account>/webhook).",
          }),
          secret: Type.Optional(
            Type.String({
              pattern: "^[A-Za-z0-9_-]{1,256}$",
              description: "Checked on every update (secret). @default derived from the bot token",
            }),
          ),
        },
        { additionalProperties: false },
      ),
    ),
    mediaMaxMb: Type.Optional(
      Type.Number({
        minimum: 0,
        maximum: 2000,
        description: "Larger photos/documents are not downloaded. @default 20",
      }),
    ),
  },
  { additionalProperties: true },
);
export type TelegramAccountConfig = Static<typeof TelegramAccountConfig>;

/** What the gateway needs to check a Telegram config without loading grammY (`gateway config validate`). */
export const telegramConfigPlugin = {
  id: "telegram",
  meta: {
    label: "Telegram",
    docs: "https://core.telegram.org/bots/api",
    setup: "create a bot with @BotFather, then set channels.telegram.botToken",
  },
  configSchema: TelegramAccountConfig,
} as const;
