import { type Static, Type } from "@sinclair/typebox";

/** Socket Mode tuning: how a dead or silent connection is noticed. */
export const SlackSocketConfig = Type.Object(
  {
    clientPingTimeoutMs: Type.Optional(
      Type.Integer({
        minimum: 100,
        maximum: 120_000,
        description:
          "A pong must follow our ping within this; also the library's reconnect delay step (× consecutive failures). @default 5000",
      }),
    ),
    serverPingTimeoutMs: Type.Optional(
      Type.Integer({
        minimum: 100,
        maximum: 600_000,
        description: "After Slack's first ping, the next must come within this. @default 30000",
      }),
    ),
    silenceMs: Type.Optional(
      Type.Integer({
        minimum: 100,
        maximum: 600_000,
        description:
          "The watchdog: a socket that got nothing from Slack (no ping, no message) for this long is replaced by a new one, opened before the old is closed. @default 35000",
      }),
    ),
    helloTimeoutMs: Type.Optional(
      Type.Integer({
        minimum: 100,
        maximum: 120_000,
        description:
          "A new connection that Slack does not greet (hello) within this is closed and retried. @default 10000",
      }),
    ),
  },
  { additionalProperties: false },
);
export type SlackSocketConfig = Static<typeof SlackSocketConfig>;

/** One Slack app in one workspace: `channels.slack` (the default account) or `channels.slack.accounts.<name>`. */
export const SlackAccountConfig = Type.Object(
  {
    mode: Type.Optional(
      Type.Union([Type.Literal("socket"), Type.Literal("http")], {
        description:
          "How events arrive: Socket Mode (an outbound WebSocket, works behind NAT; needs appToken) or the HTTP Events API on the gateway's port (needs signingSecret and a public URL). @default socket",
      }),
    ),
    botToken: Type.Optional(
      Type.String({
        pattern: "^xox[bp]-",
        description:
          "The Bot User OAuth Token (xoxb-…, secret) from OAuth & Permissions; the config may read it from the environment.",
      }),
    ),
    appToken: Type.Optional(
      Type.String({
        pattern: "^xapp-",
        description:
          "Socket Mode: an app-level token (xapp-…, secret) with connections:write, from Basic Information → App-Level Tokens.",
      }),
    ),
    signingSecret: Type.Optional(
      Type.String({
        minLength: 8,
        description: "HTTP mode: the Signing Secret (secret) from Basic Information; every request is checked with it.",
      }),
    ),
    apiUrl: Type.Optional(
      Type.String({
        pattern: "^https?://[^\\s]+/$",
        description: "The Web API root, with the trailing slash. @default https://slack.com/api/",
      }),
    ),
    replyInThread: Type.Optional(
      Type.Boolean({
        description:
          "Answer a top-level message in a channel in a thread under it (replies inside a thread always stay in it; DMs are answered in the conversation). @default false",
      }),
    ),
    typingIndicator: Type.Optional(
      Type.Union([Type.Literal("auto"), Type.Literal("status"), Type.Literal("reaction"), Type.Literal("off")], {
        description:
          'While the agent works: "status" = assistant.threads.setStatus in the reply\'s thread (scope assistant:write), "reaction" = a reaction on the message being answered, removed with the reply (reactions:write), "auto" = the status where the reply goes into a thread and the app has assistant:write, else the reaction if it has reactions:write. @default auto',
      }),
    ),
    typingReaction: Type.Optional(
      Type.String({
        pattern: "^[a-z0-9_+-]+$",
        description: "The emoji name of the reaction indicator. @default eyes",
      }),
    ),
    mediaMaxMb: Type.Optional(
      Type.Number({
        minimum: 0,
        maximum: 1000,
        description: "Files larger than this are listed but not downloaded. @default 20",
      }),
    ),
    socket: Type.Optional(SlackSocketConfig),
  },
  { additionalProperties: true },
);
export type SlackAccountConfig = Static<typeof SlackAccountConfig>;

/** What the gateway needs to check a Slack config without loading Bolt (`gateway config validate`). */
export const slackConfigPlugin = {
  id: "slack",
  meta: {
    label: "Slack",
    docs: "https://docs.slack.dev/apis/events-api/using-socket-mode",
    setup:
      "create a Slack app from the manifest in docs/channels.md#slack, then set channels.slack.botToken and appToken",
  },
  configSchema: SlackAccountConfig,
} as const;
