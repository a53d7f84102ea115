import { type Static, Type } from "@sinclair/typebox";
import { AuthMode } from "../connect.js";
import { NonEmptyString, NonNegativeInteger, TimestampMs } from "../primitives.js";

/** What the gateway exposes beyond its own port, each present only while it runs (ours; the reference has none). */
export const ExposureStatus = Type.Object(
  {
    canvasHost: Type.Optional(
      Type.Object(
        {
          url: NonEmptyString({ description: "Where the canvas host listens" }),
          liveReloadPages: NonNegativeInteger(),
        },
        { additionalProperties: false },
      ),
    ),
    tailscale: Type.Optional(
      Type.Object(
        {
          mode: Type.Union([Type.Literal("serve"), Type.Literal("funnel")]),
          state: Type.Union([Type.Literal("starting"), Type.Literal("active"), Type.Literal("failed")]),
          url: Type.Optional(NonEmptyString({ description: "The tailnet (serve) or public (funnel) URL" })),
          error: Type.Optional(NonEmptyString()),
        },
        { additionalProperties: false },
      ),
    ),
    mdns: Type.Optional(
      Type.Object(
        {
          state: Type.Union([Type.Literal("advertising"), Type.Literal("failed")]),
          serviceType: NonEmptyString(),
          name: Type.Optional(NonEmptyString()),
          error: Type.Optional(NonEmptyString()),
        },
        { additionalProperties: false },
      ),
    ),
  },
  { additionalProperties: false },
);
export type ExposureStatus = Static<typeof ExposureStatus>;
/** A session as `status` summarises it (the reference's `sessions.recent` rows). */
const StatusSessionRow = Type.Object(
  {
    key: NonEmptyString(),
    sessionId: Type.Optional(NonEmptyString()),
    updatedAt: Type.Union([TimestampMs(), Type.Null()]),
    age: Type.Union([NonNegativeInteger(), Type.Null()]),
    totalTokens: Type.Optional(NonNegativeInteger()),
    model: Type.Optional(Type.String()),
  },
  { additionalProperties: false },
);

/** The reference's `status` sections about the agent: its heartbeat and its sessions (filled in by the agent). */
export const StatusAgentSections = {
  heartbeat: Type.Optional(
    Type.Object(
      {
        defaultAgentId: NonEmptyString(),
        agents: Type.Array(
          Type.Object(
            {
              agentId: NonEmptyString(),
              enabled: Type.Boolean(),
              every: Type.String(),
              everyMs: Type.Union([NonNegativeInteger(), Type.Null()]),
            },
            { additionalProperties: false },
          ),
        ),
      },
      { additionalProperties: false },
    ),
  ),
  sessions: Type.Optional(
    Type.Object(
      {
        paths: Type.Array(Type.String()),
        count: NonNegativeInteger(),
        defaults: Type.Object(
          {
            model: Type.Union([Type.String(), Type.Null()]),
            contextTokens: Type.Union([NonNegativeInteger(), Type.Null()]),
          },
          { additionalProperties: false },
        ),
        recent: Type.Array(StatusSessionRow),
        byAgent: Type.Array(
          Type.Object(
            {
              agentId: NonEmptyString(),
              path: Type.String(),
              count: NonNegativeInteger(),
              recent: Type.Array(StatusSessionRow),
            },
            { additionalProperties: false },
          ),
        ),
      },
      { additionalProperties: false },
    ),
  ),
  /** System events waiting for the main session's next run. */
  queuedSystemEvents: Type.Optional(Type.Array(Type.String())),
};

/** Result of `status`: a one-screen summary of the running gateway. */
export const StatusResult = Type.Object(
  {
    ts: TimestampMs(),
    version: NonEmptyString(),
    uptimeMs: NonNegativeInteger(),
    startedAtMs: TimestampMs(),
    authMode: AuthMode,
    listen: Type.Object({ host: Type.String(), port: NonNegativeInteger() }, { additionalProperties: false }),
    connections: Type.Object(
      { total: NonNegativeInteger(), operators: NonNegativeInteger(), nodes: NonNegativeInteger() },
      { additionalProperties: false },
    ),
    stateDir: Type.Optional(Type.String()),
    configPath: Type.Optional(Type.String()),
    methods: NonNegativeInteger({ description: "How many methods are registered" }),
    warnings: Type.Array(Type.String(), { description: "What is missing and how to add it" }),
    exposure: Type.Optional(ExposureStatus),
    ...StatusAgentSections,
    tls: Type.Optional(
      Type.Object(
        {
          fingerprintSha256: NonEmptyString({
            description:
              "SHA-256 fingerprint of the certificate served (colon-separated uppercase hex): what a client pins",
          }),
        },
        { additionalProperties: false, description: "Present when the gateway serves HTTPS / wss://" },
      ),
    ),
  },
  { additionalProperties: false },
);
export type StatusResult = Static<typeof StatusResult>;

/** Params of `system-event`: a line of text for the main session, optionally updating the caller's presence. */
export const SystemEventParams = Type.Object({
  text: Type.String({ minLength: 1, maxLength: 100_000 }),
  sessionKey: Type.Optional(NonEmptyString()),
  host: Type.Optional(NonEmptyString()),
  ip: Type.Optional(NonEmptyString()),
  mode: Type.Optional(NonEmptyString()),
  version: Type.Optional(NonEmptyString()),
  platform: Type.Optional(NonEmptyString()),
  deviceFamily: Type.Optional(NonEmptyString()),
  instanceId: Type.Optional(NonEmptyString()),
  reason: Type.Optional(NonEmptyString()),
  tags: Type.Optional(Type.Array(NonEmptyString())),
});
export type SystemEventParams = Static<typeof SystemEventParams>;

/** Params of `wake`: wake the main session now or at the next heartbeat, with a line of text. */
export const WakeParams = Type.Object({
  mode: Type.Union([Type.Literal("now"), Type.Literal("next-heartbeat")]),
  text: NonEmptyString(),
  sessionKey: Type.Optional(NonEmptyString()),
  agentId: Type.Optional(NonEmptyString()),
});
export type WakeParams = Static<typeof WakeParams>;

/** Result of `wake`. */
export const WakeResult = Type.Object(
  { ok: Type.Literal(true), mode: Type.Union([Type.Literal("now"), Type.Literal("next-heartbeat")]) },
  { additionalProperties: false },
);
export type WakeResult = Static<typeof WakeResult>;

/** Outcome of one heartbeat run. `missed` is raised by the watchdog when no heartbeat completed in time. */
export const HeartbeatStatus = Type.Union([
  Type.Literal("sent"),
  Type.Literal("ok-empty"),
  Type.Literal("ok-token"),
  Type.Literal("skipped"),
  Type.Literal("failed"),
  Type.Literal("missed"),
]);
export type HeartbeatStatus = Static<typeof HeartbeatStatus>;

/** Payload of the `heartbeat` event, and the result of `last-heartbeat` (or null before the first). */
export const HeartbeatEvent = Type.Object(
  {
    ts: TimestampMs(),
    status: HeartbeatStatus,
    agentId: Type.Optional(NonEmptyString()),
    to: Type.Optional(Type.String()),
    preview: Type.Optional(Type.String()),
    durationMs: Type.Optional(NonNegativeInteger()),
    reason: Type.Optional(Type.String()),
    hasMedia: Type.Optional(Type.Boolean()),
  },
  { additionalProperties: false },
);
export type HeartbeatEvent = Static<typeof HeartbeatEvent>;

/** Result of `last-heartbeat`. */
export const LastHeartbeatResult = Type.Union([HeartbeatEvent, Type.Null()]);
export type LastHeartbeatResult = Static<typeof LastHeartbeatResult>;

/** Params of `set-heartbeats`: turn heartbeats on or off at runtime. */
export const SetHeartbeatsParams = Type.Object({ enabled: Type.Boolean() });
export type SetHeartbeatsParams = Static<typeof SetHeartbeatsParams>;

/** Result of `set-heartbeats`. */
export const SetHeartbeatsResult = Type.Object(
  { ok: Type.Literal(true), enabled: Type.Boolean() },
  { additionalProperties: false },
);
export type SetHeartbeatsResult = Static<typeof SetHeartbeatsResult>;

/** Params of `logs.tail`: read the gateway's log file from a byte cursor (omit it to get the tail). */
export const LogsTailParams = Type.Object({
  cursor: Type.Optional(NonNegativeInteger()),
  limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 5000 })),
  maxBytes: Type.Optional(Type.Integer({ minimum: 1, maximum: 1_000_000 })),
});
export type LogsTailParams = Static<typeof LogsTailParams>;

/** Result of `logs.tail`; pass `cursor` back to continue. `reset` means the file was rotated or truncated. */
export const LogsTailResult = Type.Object(
  {
    file: NonEmptyString(),
    cursor: NonNegativeInteger(),
    size: NonNegativeInteger(),
    lines: Type.Array(Type.String()),
    truncated: Type.Optional(Type.Boolean()),
    reset: Type.Optional(Type.Boolean()),
    skippedBytes: Type.Optional(NonNegativeInteger()),
  },
  { additionalProperties: false },
);
export type LogsTailResult = Static<typeof LogsTailResult>;

/** One gateway instance of a fleet (several instances on one Redis). */
export const FleetMember = Type.Object(
  {
    id: NonEmptyString(),
    host: Type.String(),
    pid: NonNegativeInteger(),
    url: Type.String({ description: "Where its clients connect" }),
    version: Type.String(),
    startedAt: TimestampMs(),
    seenAt: TimestampMs(),
    owns: Type.Array(Type.String(), { description: "The leases it holds: channel:<channel>:<account>" }),
  },
  { additionalProperties: false },
);
export type FleetMember = Static<typeof FleetMember>;

/** Result of `fleet.status`: the instances alive now and what each runs (`enabled` false: this gateway runs alone). */
export const FleetStatusResult = Type.Object(
  {
    enabled: Type.Boolean({ description: "Whether this gateway is an instance of a fleet (fleet.enabled)" }),
    self: NonEmptyString({ description: "The id of the instance that answered" }),
    leaseMs: NonNegativeInteger(),
    members: Type.Array(FleetMember),
  },
  { additionalProperties: false },
);
export type FleetStatusResult = Static<typeof FleetStatusResult>;
/** Result of `system.info`: the machine the gateway runs on. */
export const SystemInfoResult = Type.Object(
  {
    machineName: Type.String(),
    hostname: Type.String(),
    platform: Type.String(),
    release: Type.String(),
    arch: Type.String(),
    osLabel: Type.String(),
    port: Type.Optional(Type.Integer()),
    nodeVersion: Type.String(),
    pid: Type.Integer(),
    uptimeMs: Type.Integer(),
    cpuCount: Type.Integer(),
    cpuModel: Type.Optional(Type.String()),
    /** 1, 5 and 15 minutes. */
    loadAverage: Type.Array(Type.Number(), { minItems: 3, maxItems: 3 }),
    memoryTotalBytes: Type.Integer(),
    memoryFreeBytes: Type.Integer(),
    diskTotalBytes: Type.Optional(Type.Integer()),
    diskAvailableBytes: Type.Optional(Type.Integer()),
    diskPath: Type.Optional(Type.String()),
  },
  { additionalProperties: false },
);
export type SystemInfoResult = Static<typeof SystemInfoResult>;

/**
 * Result of `update.status`: this gateway has no update channel (it is updated with npm, like any package), so there
 * is never a restart sentinel nor an update to offer.
 */
export const UpdateStatusResult = Type.Object(
  { sentinel: Type.Null(), updateAvailable: Type.Null() },
  { additionalProperties: false },
);
export type UpdateStatusResult = Static<typeof UpdateStatusResult>;

/** Result of `diagnostics.stability`: the event loop, memory and the agent's lanes, measured now. */
export const DiagnosticsStabilityResult = Type.Object(
  {
    ts: TimestampMs(),
    uptimeMs: NonNegativeInteger(),
    eventLoop: Type.Object(
      {
        degraded: Type.Boolean(),
        delayP99Ms: Type.Number({ minimum: 0 }),
        delayMaxMs: Type.Number({ minimum: 0 }),
        utilization: Type.Number({ minimum: 0 }),
      },
      { additionalProperties: false },
    ),
    memory: Type.Object(
      {
        rssBytes: NonNegativeInteger(),
        heapUsedBytes: NonNegativeInteger(),
        heapTotalBytes: NonNegativeInteger(),
        externalBytes: NonNegativeInteger(),
      },
      { additionalProperties: false },
    ),
    lanes: Type.Object(
      {
        /** Sessions with a run going on. */
        busy: NonNegativeInteger(),
        /** Runs allowed at once (`agents.defaults.maxConcurrentRuns`). */
        maxConcurrentRuns: NonNegativeInteger(),
      },
      { additionalProperties: false },
    ),
    connections: NonNegativeInteger(),
  },
  { additionalProperties: false },
);
export type DiagnosticsStabilityResult = Static<typeof DiagnosticsStabilityResult>;

/** Result of `skills.status`: this gateway has no skills yet, and says so. */
export const SkillsStatusResult = Type.Object(
  {
    workspaceDir: Type.Optional(Type.String()),
    skills: Type.Array(Type.Unknown(), { maxItems: 0 }),
    note: NonEmptyString(),
  },
  { additionalProperties: false },
);
export type SkillsStatusResult = Static<typeof SkillsStatusResult>;

/** Params of `usage.status` and `usage.cost`. */
export const UsageParams = Type.Object({
  days: Type.Optional(Type.Integer({ minimum: 1, maximum: 3650 })),
  agentId: Type.Optional(NonEmptyString()),
});
export type UsageParams = Static<typeof UsageParams>;

/** Token totals as recorded per session. */
export const UsageTotals = Type.Object(
  { input: NonNegativeInteger(), output: NonNegativeInteger(), totalTokens: NonNegativeInteger() },
  { additionalProperties: false },
);
export type UsageTotals = Static<typeof UsageTotals>;

/** Result of `usage.status`: recorded token usage, in total and per session (most first). */
export const UsageStatusResult = Type.Object(
  {
    updatedAt: TimestampMs(),
    totals: UsageTotals,
    sessions: Type.Array(
      Type.Object(
        { key: NonEmptyString(), updatedAt: TimestampMs(), usage: UsageTotals },
        { additionalProperties: false },
      ),
    ),
  },
  { additionalProperties: false },
);
export type UsageStatusResult = Static<typeof UsageStatusResult>;

/** Result of `usage.cost`: tokens per day from the transcripts; cost only where a price is known (none is configured here). */
export const UsageCostResult = Type.Object(
  {
    updatedAt: TimestampMs(),
    days: NonNegativeInteger(),
    daily: Type.Array(
      Type.Object(
        {
          date: Type.String({ pattern: "^\\d{4}-\\d{2}-\\d{2}$" }),
          input: NonNegativeInteger(),
          output: NonNegativeInteger(),
          totalTokens: NonNegativeInteger(),
          totalCost: Type.Null(),
        },
        { additionalProperties: false },
      ),
    ),
    totals: Type.Object(
      {
        input: NonNegativeInteger(),
        output: NonNegativeInteger(),
        totalTokens: NonNegativeInteger(),
        totalCost: Type.Null(),
      },
      { additionalProperties: false },
    ),
    /** Why costs are null. */
    note: NonEmptyString(),
  },
  { additionalProperties: false },
);
export type UsageCostResult = Static<typeof UsageCostResult>;
