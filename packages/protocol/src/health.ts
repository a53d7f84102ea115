import { type Static, Type } from "@sinclair/typebox";
import { NonNegativeInteger, Nullable, StringMap, TimestampMs } from "./primitives.js";

/** Event-loop health: delay percentiles and utilisation over the last sampling interval. */
export const EventLoopHealth = Type.Object(
  {
    degraded: Type.Boolean(),
    degradedSinceMs: Type.Optional(Nullable(TimestampMs())),
    reasons: Type.Array(
      Type.Union([Type.Literal("event_loop_delay"), Type.Literal("event_loop_utilization"), Type.Literal("cpu")]),
    ),
    intervalMs: NonNegativeInteger(),
    delayP99Ms: Type.Number({ minimum: 0 }),
    delayMaxMs: Type.Number({ minimum: 0 }),
    utilization: Type.Number({ minimum: 0 }),
    cpuCoreRatio: Type.Number({ minimum: 0 }),
  },
  { additionalProperties: false },
);
export type EventLoopHealth = Static<typeof EventLoopHealth>;

/** Plugins the gateway loaded, and those that failed. */
export const PluginsHealth = Type.Object(
  {
    loaded: Type.Array(Type.String()),
    errors: Type.Array(
      Type.Object(
        {
          id: Type.String(),
          origin: Type.String(),
          activated: Type.Boolean(),
          failurePhase: Type.Optional(Type.String()),
          error: Type.String(),
        },
        { additionalProperties: false },
      ),
    ),
  },
  { additionalProperties: false },
);
export type PluginsHealth = Static<typeof PluginsHealth>;

/** A session store summary: where it lives, how many sessions, the most recent ones. */
export const SessionsHealth = Type.Object(
  {
    path: Type.String(),
    count: NonNegativeInteger(),
    recent: Type.Array(
      Type.Object(
        { key: Type.String(), updatedAt: Nullable(TimestampMs()), age: Nullable(NonNegativeInteger()) },
        { additionalProperties: false },
      ),
    ),
  },
  { additionalProperties: false },
);
export type SessionsHealth = Static<typeof SessionsHealth>;

/** Heartbeat settings of one agent as shown in health. */
export const AgentHeartbeatHealth = Type.Object(
  {
    enabled: Type.Boolean(),
    every: Type.String(),
    everyMs: Nullable(NonNegativeInteger()),
    prompt: Type.String(),
    target: Type.String(),
    ackMaxChars: NonNegativeInteger(),
  },
  { additionalProperties: false },
);

/** One agent as shown in health. */
export const AgentHealth = Type.Object(
  {
    agentId: Type.String(),
    name: Type.Optional(Type.String()),
    isDefault: Type.Boolean(),
    heartbeat: AgentHeartbeatHealth,
    sessions: SessionsHealth,
  },
  { additionalProperties: false },
);
export type AgentHealth = Static<typeof AgentHealth>;

/**
 * The health snapshot: carried in `hello-ok.snapshot.health` and in every `health` event. Its shape is the
 * reference's, so any protocol-4 client reads it. `ok` is present (and `true`) only when nothing is degraded.
 */
export const HealthSnapshot = Type.Object(
  {
    ok: Type.Optional(Type.Literal(true)),
    ts: TimestampMs(),
    durationMs: Type.Optional(NonNegativeInteger()),
    eventLoop: Type.Optional(EventLoopHealth),
    plugins: Type.Optional(PluginsHealth),
    channels: Type.Optional(StringMap(Type.Unknown())),
    channelOrder: Type.Optional(Type.Array(Type.String())),
    channelLabels: Type.Optional(StringMap(Type.String())),
    heartbeatSeconds: Type.Optional(NonNegativeInteger()),
    defaultAgentId: Type.Optional(Type.String()),
    agents: Type.Optional(Type.Array(AgentHealth)),
    sessions: Type.Optional(SessionsHealth),
  },
  { additionalProperties: false },
);
export type HealthSnapshot = Static<typeof HealthSnapshot>;

/** Process-level figures of the gateway itself, returned by the `health` method (not part of the snapshot). */
export const GatewayProcessHealth = Type.Object(
  {
    version: Type.String({ minLength: 1 }),
    uptimeMs: NonNegativeInteger(),
    pid: NonNegativeInteger(),
    nodeVersion: Type.String(),
    memory: Type.Object(
      { rssBytes: NonNegativeInteger(), heapUsedBytes: NonNegativeInteger() },
      { additionalProperties: false },
    ),
    connections: Type.Object(
      { total: NonNegativeInteger(), operators: NonNegativeInteger(), nodes: NonNegativeInteger() },
      { additionalProperties: false },
    ),
    warnings: Type.Array(Type.String()),
  },
  { additionalProperties: false },
);
export type GatewayProcessHealth = Static<typeof GatewayProcessHealth>;

/** Result of the `health` method: the snapshot plus the gateway's process figures. */
export const HealthResult = Type.Composite([HealthSnapshot, Type.Object({ gateway: GatewayProcessHealth })], {
  additionalProperties: false,
});
export type HealthResult = Static<typeof HealthResult>;
