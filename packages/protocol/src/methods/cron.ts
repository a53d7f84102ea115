import { type Static, Type } from "@sinclair/typebox";
import { NonEmptyString, NonNegativeInteger, Nullable, TimestampMs } from "../primitives.js";

const MAX_TIME_MS = 8_640_000_000_000_000;
const Time = () => Type.Integer({ minimum: 0, maximum: MAX_TIME_MS });

/** When a job runs: once at an ISO time, every N ms, or on a cron expression in a time zone. */
export const CronSchedule = Type.Union([
  Type.Object({ kind: Type.Literal("at"), at: NonEmptyString({ description: "ISO 8601 time" }) }),
  Type.Object({
    kind: Type.Literal("every"),
    everyMs: Type.Integer({ minimum: 1, maximum: MAX_TIME_MS }),
    anchorMs: Type.Optional(Time()),
  }),
  Type.Object({
    kind: Type.Literal("cron"),
    expr: NonEmptyString({ description: "5 or 6 fields" }),
    tz: Type.Optional(Type.String({ description: "IANA time zone; default the host's" })),
    staggerMs: Type.Optional(Time()),
  }),
]);
export type CronSchedule = Static<typeof CronSchedule>;

/** What a job does: a system event into the main session, or an agent turn in its own session. */
export const CronPayload = Type.Union([
  Type.Object({ kind: Type.Literal("systemEvent"), text: NonEmptyString() }),
  Type.Object({
    kind: Type.Literal("agentTurn"),
    message: NonEmptyString(),
    model: Type.Optional(Type.String()),
    thinking: Type.Optional(Type.String()),
    timeoutSeconds: Type.Optional(Type.Number({ minimum: 0 })),
  }),
]);
export type CronPayload = Static<typeof CronPayload>;

/** Where a job's result goes. `announce` sends it to a channel peer (or the last one used); `webhook` POSTs it. */
export const CronDelivery = Type.Object({
  mode: Type.Union([Type.Literal("none"), Type.Literal("announce"), Type.Literal("webhook")]),
  channel: Type.Optional(Type.String({ minLength: 1, description: "A channel id, or `last`" })),
  to: Type.Optional(Type.String({ minLength: 1, description: "A peer, or the webhook URL" })),
  accountId: Type.Optional(Type.String({ minLength: 1 })),
  threadId: Type.Optional(Type.Union([Type.String(), Type.Number()])),
  bestEffort: Type.Optional(Type.Boolean()),
});
export type CronDelivery = Static<typeof CronDelivery>;

/** Which session a job runs in. */
export const CronSessionTarget = Type.Union([Type.Literal("main"), Type.Literal("isolated")]);
/** Whether a main-session job wakes the agent now or waits for the next heartbeat. */
export const CronWakeMode = Type.Union([Type.Literal("now"), Type.Literal("next-heartbeat")]);
/** Outcome of a run. */
export const CronRunStatus = Type.Union([Type.Literal("ok"), Type.Literal("error"), Type.Literal("skipped")]);
export type CronRunStatus = Static<typeof CronRunStatus>;

/** Runtime state of a job. */
export const CronJobState = Type.Object(
  {
    nextRunAtMs: Type.Optional(Time()),
    runningAtMs: Type.Optional(Time()),
    lastRunAtMs: Type.Optional(Time()),
    lastRunStatus: Type.Optional(CronRunStatus),
    lastStatus: Type.Optional(CronRunStatus),
    lastError: Type.Optional(Type.String()),
    lastDurationMs: Type.Optional(NonNegativeInteger()),
    consecutiveErrors: Type.Optional(NonNegativeInteger()),
  },
  { additionalProperties: false },
);
export type CronJobState = Static<typeof CronJobState>;

const strict = <T extends Record<string, unknown>>(value: T) => ({ ...value, additionalProperties: false as const });

/** A scheduled job as stored and returned (output shape: strict). */
export const CronJob = Type.Object(
  {
    id: NonEmptyString(),
    name: NonEmptyString(),
    description: Type.Optional(Type.String()),
    agentId: Type.Optional(NonEmptyString()),
    enabled: Type.Boolean(),
    deleteAfterRun: Type.Optional(Type.Boolean()),
    createdAtMs: Time(),
    updatedAtMs: Time(),
    schedule: Type.Union(CronSchedule.anyOf.map((branch) => Type.Object(branch.properties, strict({})))),
    sessionTarget: CronSessionTarget,
    wakeMode: CronWakeMode,
    payload: Type.Union(CronPayload.anyOf.map((branch) => Type.Object(branch.properties, strict({})))),
    delivery: Type.Optional(Type.Object(CronDelivery.properties, strict({}))),
    state: CronJobState,
  },
  { additionalProperties: false },
);
export type CronJob = Static<typeof CronJob>;

const cronJobInputFields = {
  name: NonEmptyString(),
  description: Type.Optional(Type.String()),
  agentId: Type.Optional(Nullable(NonEmptyString())),
  enabled: Type.Optional(Type.Boolean()),
  deleteAfterRun: Type.Optional(Type.Boolean()),
  schedule: CronSchedule,
  sessionTarget: CronSessionTarget,
  wakeMode: CronWakeMode,
  payload: CronPayload,
  delivery: Type.Optional(CronDelivery),
};

/** Params of `cron.add`. */
export const CronAddParams = Type.Object(cronJobInputFields);
export type CronAddParams = Static<typeof CronAddParams>;

/** A payload change in `cron.update`: only `kind` is required; `null` clears an optional field. */
export const CronPayloadPatch = Type.Union([
  Type.Object({ kind: Type.Literal("systemEvent"), text: Type.Optional(NonEmptyString()) }),
  Type.Object({
    kind: Type.Literal("agentTurn"),
    message: Type.Optional(NonEmptyString()),
    model: Type.Optional(Nullable(Type.String())),
    thinking: Type.Optional(Nullable(Type.String())),
    timeoutSeconds: Type.Optional(Type.Number({ minimum: 0 })),
  }),
]);
export type CronPayloadPatch = Static<typeof CronPayloadPatch>;

/** A delivery change in `cron.update`; `null` clears a field. */
export const CronDeliveryPatch = Type.Object({
  mode: Type.Optional(CronDelivery.properties.mode),
  channel: Type.Optional(Nullable(Type.String({ minLength: 1 }))),
  to: Type.Optional(Nullable(Type.String({ minLength: 1 }))),
  accountId: Type.Optional(Nullable(Type.String({ minLength: 1 }))),
  threadId: Type.Optional(Type.Union([Type.String(), Type.Number(), Type.Null()])),
  bestEffort: Type.Optional(Type.Boolean()),
});
export type CronDeliveryPatch = Static<typeof CronDeliveryPatch>;

/** The fields `cron.update` may change. */
export const CronJobPatch = Type.Object({
  name: Type.Optional(NonEmptyString()),
  description: Type.Optional(Type.String()),
  agentId: Type.Optional(Nullable(NonEmptyString())),
  enabled: Type.Optional(Type.Boolean()),
  deleteAfterRun: Type.Optional(Type.Boolean()),
  schedule: Type.Optional(CronSchedule),
  sessionTarget: Type.Optional(CronSessionTarget),
  wakeMode: Type.Optional(CronWakeMode),
  payload: Type.Optional(CronPayloadPatch),
  delivery: Type.Optional(CronDeliveryPatch),
});
export type CronJobPatch = Static<typeof CronJobPatch>;

/** Params of `cron.update` (the job is named by `id` or `jobId`). */
export const CronUpdateParams = Type.Union([
  Type.Object({ id: NonEmptyString(), patch: CronJobPatch }),
  Type.Object({ jobId: NonEmptyString(), patch: CronJobPatch }),
]);
export type CronUpdateParams = Static<typeof CronUpdateParams>;

/** Params of `cron.remove`. */
export const CronRemoveParams = Type.Union([
  Type.Object({ id: NonEmptyString() }),
  Type.Object({ jobId: NonEmptyString() }),
]);
export type CronRemoveParams = Static<typeof CronRemoveParams>;

/** Result of `cron.remove`. */
export const CronRemoveResult = Type.Object(
  { ok: Type.Literal(true), removed: Type.Boolean() },
  { additionalProperties: false },
);
export type CronRemoveResult = Static<typeof CronRemoveResult>;

/** How `cron.run` decides to run: `force` (default) always, `due` only when due, `if-enabled` unless disabled. */
export const CronRunMode = Type.Union([Type.Literal("due"), Type.Literal("force"), Type.Literal("if-enabled")]);

/** Params of `cron.run`: run a job now. */
export const CronRunParams = Type.Union([
  Type.Object({ id: NonEmptyString(), mode: Type.Optional(CronRunMode) }),
  Type.Object({ jobId: NonEmptyString(), mode: Type.Optional(CronRunMode) }),
]);
export type CronRunParams = Static<typeof CronRunParams>;

/** Result of `cron.run`. */
export const CronRunResult = Type.Object(
  {
    ok: Type.Literal(true),
    ran: Type.Boolean(),
    runId: Type.Optional(NonEmptyString()),
    reason: Type.Optional(
      Type.Union([Type.Literal("not-due"), Type.Literal("disabled"), Type.Literal("already-running")]),
    ),
  },
  { additionalProperties: false },
);
export type CronRunResult = Static<typeof CronRunResult>;

/** Params of `cron.list`. */
export const CronListParams = Type.Object({
  includeDisabled: Type.Optional(Type.Boolean()),
  limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 200 })),
  offset: Type.Optional(NonNegativeInteger()),
  query: Type.Optional(Type.String()),
  agentId: Type.Optional(NonEmptyString()),
});
export type CronListParams = Static<typeof CronListParams>;

/** Params of `cron.get`: one job by id (`jobId` is the reference's alias). */
export const CronGetParams = Type.Union([
  Type.Object({ id: NonEmptyString() }),
  Type.Object({ jobId: NonEmptyString() }),
]);
export type CronGetParams = Static<typeof CronGetParams>;

/** Result of `cron.list`. */
export const CronListResult = Type.Object(
  {
    jobs: Type.Array(CronJob),
    total: NonNegativeInteger(),
    offset: NonNegativeInteger(),
    limit: NonNegativeInteger(),
    hasMore: Type.Boolean(),
    nextOffset: Nullable(NonNegativeInteger({ description: "Where the next page starts; null on the last page" })),
    snapshotRevision: NonEmptyString({
      description: "Names the inventory this page was cut from; it changes when any job does (page again from 0)",
    }),
  },
  { additionalProperties: false },
);
export type CronListResult = Static<typeof CronListResult>;

/** Result of `cron.status`. */
export const CronStatusResult = Type.Object(
  {
    enabled: Type.Boolean(),
    storePath: NonEmptyString(),
    jobs: NonNegativeInteger(),
    running: NonNegativeInteger(),
    nextWakeAtMs: Nullable(TimestampMs()),
    /** Due times skipped since the gateway started (missed while it was down and not caught up; see `cron.runs`). */
    missedRuns: Type.Optional(NonNegativeInteger()),
  },
  { additionalProperties: false },
);
export type CronStatusResult = Static<typeof CronStatusResult>;

/** Params of `cron.runs`: the run log of a job (or of all jobs), newest first. */
export const CronRunsParams = Type.Object({
  id: Type.Optional(NonEmptyString()),
  jobId: Type.Optional(NonEmptyString()),
  scope: Type.Optional(Type.Union([Type.Literal("job"), Type.Literal("all")])),
  limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 200 })),
  offset: Type.Optional(NonNegativeInteger()),
  status: Type.Optional(
    Type.Union([Type.Literal("all"), Type.Literal("ok"), Type.Literal("error"), Type.Literal("skipped")]),
  ),
});
export type CronRunsParams = Static<typeof CronRunsParams>;

/** One finished run of a job. An interrupted run (gateway crashed mid-run) is reported with status `error`. */
export const CronRunLogEntry = Type.Object(
  {
    ts: TimestampMs(),
    jobId: NonEmptyString(),
    jobName: Type.Optional(Type.String()),
    action: Type.Literal("finished"),
    status: Type.Optional(CronRunStatus),
    error: Type.Optional(Type.String()),
    summary: Type.Optional(Type.String()),
    delivered: Type.Optional(Type.Boolean()),
    deliveryStatus: Type.Optional(
      Type.Union([
        Type.Literal("delivered"),
        Type.Literal("not-delivered"),
        Type.Literal("unknown"),
        Type.Literal("not-requested"),
      ]),
    ),
    deliveryError: Type.Optional(Type.String()),
    sessionId: Type.Optional(NonEmptyString()),
    sessionKey: Type.Optional(NonEmptyString()),
    runId: Type.Optional(NonEmptyString()),
    runAtMs: Type.Optional(TimestampMs()),
    durationMs: Type.Optional(NonNegativeInteger()),
    nextRunAtMs: Type.Optional(TimestampMs()),
  },
  { additionalProperties: false },
);
export type CronRunLogEntry = Static<typeof CronRunLogEntry>;

/** Result of `cron.runs`. */
export const CronRunsResult = Type.Object(
  {
    entries: Type.Array(CronRunLogEntry),
    total: NonNegativeInteger(),
    offset: NonNegativeInteger(),
    limit: NonNegativeInteger(),
    hasMore: Type.Boolean(),
  },
  { additionalProperties: false },
);
export type CronRunsResult = Static<typeof CronRunsResult>;

/** Payload of the `cron` event: a job changed or ran. */
export const CronEvent = Type.Object(
  {
    jobId: NonEmptyString(),
    action: Type.Union([
      Type.Literal("added"),
      Type.Literal("updated"),
      Type.Literal("removed"),
      Type.Literal("started"),
      Type.Literal("finished"),
    ]),
    runId: Type.Optional(NonEmptyString()),
    runAtMs: Type.Optional(TimestampMs()),
    durationMs: Type.Optional(NonNegativeInteger()),
    status: Type.Optional(CronRunStatus),
    error: Type.Optional(Type.String()),
    summary: Type.Optional(Type.String()),
    nextRunAtMs: Type.Optional(TimestampMs()),
  },
  { additionalProperties: false },
);
export type CronEvent = Static<typeof CronEvent>;
