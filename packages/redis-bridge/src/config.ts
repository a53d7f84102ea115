import { type Static, Type } from "@sinclair/typebox";

const WakeMode = Type.Union([Type.Literal("now"), Type.Literal("next-heartbeat")]);

/** The `redis` config section: the gateway becomes the central consumer when `url` is set. */
export const RedisConfigSection = Type.Object(
  {
    url: Type.Optional(
      Type.String({
        pattern: "^rediss?://",
        description: "redis://host:6379/0 (env GATEWAY_REDIS_URL); unset: no bridge",
      }),
    ),
    keyPrefix: Type.Optional(
      Type.String({
        pattern: "^[A-Za-z0-9:_.-]*$",
        description:
          "Put this gateway's bridge keys under a prefix (a shared Redis, a second deployment); producers must use it too. @default none: the seed's agent:* keys",
      }),
    ),
    consumerId: Type.Optional(
      Type.String({ minLength: 1, description: "Stable id of this gateway; default the host name" }),
    ),
    pollIntervalMs: Type.Optional(Type.Integer({ minimum: 100, maximum: 600_000, default: 5_000 })),
    dedupeTtlSeconds: Type.Optional(Type.Integer({ minimum: 60, default: 604_800 })),
    batchSize: Type.Optional(Type.Integer({ minimum: 1, maximum: 10_000, default: 200 })),
    wake: Type.Optional(
      Type.Object(
        {
          default: Type.Optional(Type.Union([Type.Literal("now"), Type.Literal("next-heartbeat")], { default: "now" })),
          byType: Type.Optional(Type.Record(Type.String({ minLength: 1 }), WakeMode)),
        },
        { additionalProperties: false, description: "Run the agent now, or at the next heartbeat, per event type" },
      ),
    ),
    routes: Type.Optional(
      Type.Record(Type.String({ minLength: 1 }), Type.String({ minLength: 1 }), {
        description: "event type → session key (default: the main session)",
      }),
    ),
  },
  { additionalProperties: false },
);
export type RedisConfigSection = Static<typeof RedisConfigSection>;

/** How a batch of events is woken: the first type that asks for `now` wins. */
export function wakeModeFor(types: readonly string[], config: RedisConfigSection["wake"]): "now" | "next-heartbeat" {
  const fallback = config?.default ?? "now";
  return types.some((type) => (config?.byType?.[type] ?? fallback) === "now") ? "now" : "next-heartbeat";
}
