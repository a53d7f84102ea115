import { type Static, Type } from "@sinclair/typebox";

/** The `fleet` config section: several gateway instances on the Redis of `redis.url`. */
export const FleetConfigSection = Type.Object(
  {
    enabled: Type.Optional(
      Type.Boolean({
        default: false,
        description:
          "Run as one instance of a fleet on the Redis of redis.url: each channel account runs on exactly one instance (a lease with a fencing token) and moves to another when its owner dies",
      }),
    ),
    instanceId: Type.Optional(
      Type.String({
        pattern: "^[A-Za-z0-9_.-]{1,64}$",
        description: "This instance's name in the fleet (unique); default <host name>-<port>",
      }),
    ),
    leaseMs: Type.Optional(
      Type.Integer({
        minimum: 1_000,
        maximum: 300_000,
        default: 8_000,
        description:
          "How long an instance that stopped answering keeps its accounts before another takes them over (failover within leaseMs + 0.5 s)",
      }),
    ),
    keyPrefix: Type.Optional(
      Type.String({
        pattern: "^[A-Za-z0-9:_.-]*$",
        description: "Prefix of the fleet's Redis keys (several fleets on one Redis). @default gateway:fleet:",
      }),
    ),
  },
  { additionalProperties: false },
);
export type FleetConfigSection = Static<typeof FleetConfigSection>;
