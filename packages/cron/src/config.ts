import { type Static, Type } from "@sinclair/typebox";

/** The `cron` config section. */
export const CronConfigSection = Type.Object(
  {
    enabled: Type.Optional(Type.Boolean({ default: true, description: "Run scheduled jobs" })),
    maxConcurrentRuns: Type.Optional(Type.Integer({ minimum: 1, maximum: 32, default: 1 })),
    catchUp: Type.Optional(
      Type.Union([Type.Literal("once"), Type.Literal("skip"), Type.Literal("all")], {
        default: "once",
        description: "Runs missed while the gateway was down: run once, skip, or run each (at most catchUpMax)",
      }),
    ),
    catchUpMax: Type.Optional(Type.Integer({ minimum: 1, maximum: 1_000, default: 10 })),
    defaultTimeoutSeconds: Type.Optional(Type.Integer({ minimum: 1, maximum: 86_400, default: 600 })),
    webhookToken: Type.Optional(
      Type.String({ minLength: 1, description: "Bearer token sent with webhook deliveries (secret)" }),
    ),
    runLogMaxBytes: Type.Optional(Type.Integer({ minimum: 4_096, default: 524_288 })),
  },
  { additionalProperties: false },
);
export type CronConfigSection = Static<typeof CronConfigSection>;

/** The `heartbeat` config section: the agent's periodic look at what needs attention. */
export const HeartbeatConfigSection = Type.Object(
  {
    every: Type.Optional(
      Type.String({
        pattern: "^\\d+(\\.\\d+)?\\s*(ms|s|m|h|d)?$",
        default: "30m",
        description: "30m, 1h…; 0 disables",
      }),
    ),
    activeHours: Type.Optional(
      Type.Object(
        {
          start: Type.String({ pattern: "^([01]\\d|2[0-3]):[0-5]\\d$", description: "HH:MM" }),
          end: Type.String({ pattern: "^([01]\\d|2[0-4]):[0-5]\\d$", description: "HH:MM (24:00 = midnight)" }),
          tz: Type.Optional(Type.String({ minLength: 1, description: "IANA time zone; default the host's" })),
        },
        { additionalProperties: false },
      ),
    ),
    target: Type.Optional(
      Type.Union(
        [
          Type.Literal("last"),
          Type.Literal("none"),
          Type.Object(
            {
              channel: Type.String({ minLength: 1 }),
              to: Type.String({ minLength: 1 }),
              accountId: Type.Optional(Type.String()),
            },
            { additionalProperties: false },
          ),
        ],
        { default: "last", description: "Where a heartbeat reply that needs attention goes" },
      ),
    ),
    prompt: Type.Optional(Type.String({ minLength: 1 })),
    ackMaxChars: Type.Optional(Type.Integer({ minimum: 0, maximum: 10_000, default: 300 })),
    watchdog: Type.Optional(
      Type.Object(
        {
          enabled: Type.Optional(Type.Boolean({ default: true })),
          thresholdMs: Type.Optional(Type.Integer({ minimum: 1_000, description: "Default: twice the interval" })),
        },
        { additionalProperties: false },
      ),
    ),
  },
  { additionalProperties: false },
);
export type HeartbeatConfigSection = Static<typeof HeartbeatConfigSection>;

/** The sections this package owns. */
export const cronConfigSections = { cron: CronConfigSection, heartbeat: HeartbeatConfigSection } as const;
