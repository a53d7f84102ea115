import { type Static, type TSchema, Type } from "@sinclair/typebox";
import { ConnectChallengeEvent } from "./connect.js";
import { HealthSnapshot } from "./health.js";
import { ConfigChangedEvent, ConfigErrorEvent } from "./methods/config.js";
import { CronEvent } from "./methods/cron.js";
import { AgentEvent, ChatEvent } from "./methods/messaging.js";
import { NodeInvokeRequestEvent } from "./methods/nodes.js";
import {
  DevicePairRequest,
  DevicePairResolvedEvent,
  NodePairRequest,
  NodePairResolvedEvent,
} from "./methods/pairing.js";
import { SessionMessageEvent, SessionsChangedEvent, SessionToolEvent } from "./methods/sessions.js";
import { HeartbeatEvent } from "./methods/system.js";
import { PresenceEvent } from "./presence.js";
import { NonEmptyString, NonNegativeInteger, TimestampMs } from "./primitives.js";

/** Payload of `tick`, sent every `policy.tickIntervalMs`; two silent intervals mean the link is dead. */
export const TickEvent = Type.Object({ ts: TimestampMs() }, { additionalProperties: false });
export type TickEvent = Static<typeof TickEvent>;

/** Payload of `shutdown`, sent before every socket is closed with 1012. */
export const ShutdownEvent = Type.Object(
  { reason: NonEmptyString(), restartExpectedMs: Type.Optional(NonNegativeInteger()) },
  { additionalProperties: false },
);
export type ShutdownEvent = Static<typeof ShutdownEvent>;

/**
 * Who receives an event: everyone, operators holding a scope, or only the connection it is addressed to
 * (e.g. `node.invoke.request` goes to one node).
 */
export type EventAudience = "all" | "operator.read" | "operator.pairing" | "addressed";

/** Everything the server needs to know to deliver one event. */
export interface EventDefinition<P extends TSchema = TSchema> {
  readonly payload: P;
  readonly audience: EventAudience;
  /** Skipped for a client whose send buffer is backed up, instead of growing it (the client refetches on a gap). */
  readonly dropIfSlow: boolean;
  readonly description: string;
  /** `planned`: the shape is defined, the gateway does not send it yet. @default "implemented" */
  readonly status?: "implemented" | "planned";
}

const define = <P extends TSchema>(definition: EventDefinition<P>) => definition;

/** The event table: every event the gateway sends, its payload and who gets it. */
export const EventTable = {
  "connect.challenge": define({
    payload: ConnectChallengeEvent,
    audience: "addressed",
    dropIfSlow: false,
    description: "Sent on open; `device` signatures sign its nonce.",
  }),
  tick: define({ payload: TickEvent, audience: "all", dropIfSlow: true, description: "Liveness." }),
  presence: define({
    payload: PresenceEvent,
    audience: "all",
    dropIfSlow: true,
    description: "The presence list changed.",
  }),
  health: define({
    payload: HealthSnapshot,
    audience: "all",
    dropIfSlow: true,
    description: "The health snapshot changed.",
  }),
  heartbeat: define({
    payload: HeartbeatEvent,
    audience: "all",
    dropIfSlow: false,
    description: "A heartbeat ran (or was missed).",
  }),
  shutdown: define({
    payload: ShutdownEvent,
    audience: "all",
    dropIfSlow: false,
    description: "The gateway is stopping.",
  }),
  agent: define({
    payload: AgentEvent,
    audience: "operator.read",
    dropIfSlow: false,
    description: "One step of an agent run's stream.",
  }),
  chat: define({
    payload: ChatEvent,
    audience: "operator.read",
    dropIfSlow: false,
    description: "Chat output of a session.",
  }),
  "session.message": define({
    payload: SessionMessageEvent,
    audience: "addressed",
    dropIfSlow: false,
    description: "A message appended to a session this connection subscribed to (`sessions.messages.subscribe`).",
  }),
  "session.tool": define({
    payload: SessionToolEvent,
    audience: "addressed",
    dropIfSlow: true,
    description: "A tool call started or ended in a subscribed session.",
  }),
  "sessions.changed": define({
    payload: SessionsChangedEvent,
    audience: "addressed",
    dropIfSlow: true,
    description: "A session changed (to connections that called `sessions.subscribe`).",
  }),
  cron: define({
    payload: CronEvent,
    audience: "operator.read",
    dropIfSlow: false,
    description: "A job changed or ran.",
  }),
  "device.pair.requested": define({
    payload: DevicePairRequest,
    audience: "operator.pairing",
    dropIfSlow: false,
    description: "A new device waits for approval.",
  }),
  "device.pair.resolved": define({
    payload: DevicePairResolvedEvent,
    audience: "operator.pairing",
    dropIfSlow: false,
    description: "A device request was approved, rejected or expired.",
  }),
  "node.pair.requested": define({
    payload: NodePairRequest,
    audience: "operator.pairing",
    dropIfSlow: false,
    description: "A new node waits for approval.",
  }),
  "node.pair.resolved": define({
    payload: NodePairResolvedEvent,
    audience: "operator.pairing",
    dropIfSlow: false,
    description: "A node request was resolved.",
  }),
  "node.invoke.request": define({
    payload: NodeInvokeRequestEvent,
    audience: "addressed",
    dropIfSlow: false,
    description: "Run a command (sent to one node).",
  }),
  "config.changed": define({
    payload: ConfigChangedEvent,
    audience: "operator.read",
    dropIfSlow: false,
    description: "A config change was applied (ours).",
  }),
  "config.error": define({
    payload: ConfigErrorEvent,
    audience: "operator.read",
    dropIfSlow: false,
    description: "A config edit was refused; the last good config keeps running (ours).",
  }),
} as const satisfies Record<string, EventDefinition>;

/** Names of the events. */
export type EventName = keyof typeof EventTable;
/** The payload of an event, from its name. */
export type EventPayload<E extends EventName> = Static<(typeof EventTable)[E]["payload"]>;
/** Every event name, in table order. */
export const EVENT_NAMES = Object.keys(EventTable) as EventName[];

/** The events this gateway sends (status `implemented`), which `hello-ok.features.events` advertises. */
export const EMITTED_EVENT_NAMES: readonly EventName[] = EVENT_NAMES.filter(
  (name) => ((EventTable[name] as EventDefinition).status ?? "implemented") === "implemented",
);
