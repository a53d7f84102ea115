import { type Static, Type } from "@sinclair/typebox";

/** One linked WhatsApp number: `channels.whatsapp` (the default account) or `channels.whatsapp.accounts.<name>`. */
export const WhatsAppAccountConfig = Type.Object(
  {
    authDir: Type.Optional(
      Type.String({
        minLength: 1,
        description:
          "Where this account's WhatsApp credentials are kept (mode 0700, files 0600). Two accounts must not share one. @default <state>/channels/whatsapp/<account>/credentials",
      }),
    ),
    waVersion: Type.Optional(
      Type.String({
        pattern: "^\\d+\\.\\d+\\.\\d+$",
        description:
          "The WhatsApp Web version to announce (`2.3000.1043857760`). Never fetched from the network: set it when WhatsApp refuses the built-in one (405 at login). @default the version this plugin's Baileys ships",
      }),
    ),
    waWebSocketUrl: Type.Optional(
      Type.String({
        pattern: "^wss?://",
        description: "WhatsApp's WebSocket endpoint (a local server in tests). @default wss://web.whatsapp.com/ws/chat",
      }),
    ),
    mediaMaxMb: Type.Optional(
      Type.Number({
        minimum: 0,
        maximum: 2000,
        description: "Larger images/documents/audio are listed but not downloaded. @default 20",
      }),
    ),
    sendReadReceipts: Type.Optional(
      Type.Boolean({ description: "Mark messages the agent handles as read (blue ticks). @default true" }),
    ),
    quoteReplies: Type.Optional(
      Type.Union([Type.Literal("always"), Type.Literal("groups"), Type.Literal("never")], {
        description:
          "When a reply quotes the message it answers: in groups only (where it says who is answered), always, or never. @default groups",
      }),
    ),
    connectTimeoutMs: Type.Optional(
      Type.Integer({
        minimum: 1_000,
        maximum: 300_000,
        description: "How long connecting may take before it counts as a timeout (408) and is retried. @default 20000",
      }),
    ),
    reconnect: Type.Optional(
      Type.Object(
        {
          baseMs: Type.Optional(
            Type.Integer({
              minimum: 10,
              description: "First delay before a reconnect (doubles, with jitter). @default 2000",
            }),
          ),
          maxMs: Type.Optional(
            Type.Integer({ minimum: 10, description: "Longest delay between reconnects. @default 60000" }),
          ),
        },
        { additionalProperties: false },
      ),
    ),
  },
  { additionalProperties: true },
);
export type WhatsAppAccountConfig = Static<typeof WhatsAppAccountConfig>;

/** What the gateway needs to check a WhatsApp config without loading Baileys (`gateway config validate`). */
export const whatsappConfigPlugin = {
  id: "whatsapp",
  meta: {
    label: "WhatsApp",
    docs: "https://faq.whatsapp.com/1317564962315842",
    setup: "add channels.whatsapp: {} to the config, then link your phone: gateway channels login whatsapp",
  },
  configSchema: WhatsAppAccountConfig,
} as const;
