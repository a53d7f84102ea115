import { type Static, Type } from "@sinclair/typebox";
import { NonEmptyString, NonNegativeInteger, TimestampMs } from "./primitives.js";

/** One entry of the presence list, keyed by `instanceId`; entries expire 5 minutes after their last `ts`. */
export const PresenceEntry = Type.Object(
  {
    host: Type.Optional(NonEmptyString()),
    ip: Type.Optional(NonEmptyString()),
    version: Type.Optional(NonEmptyString()),
    platform: Type.Optional(NonEmptyString()),
    deviceFamily: Type.Optional(NonEmptyString()),
    modelIdentifier: Type.Optional(NonEmptyString()),
    mode: Type.Optional(NonEmptyString()),
    lastInputSeconds: Type.Optional(NonNegativeInteger()),
    reason: Type.Optional(NonEmptyString()),
    tags: Type.Optional(Type.Array(NonEmptyString())),
    text: Type.Optional(Type.String()),
    ts: TimestampMs(),
    onlineSince: Type.Optional(TimestampMs()),
    deviceId: Type.Optional(NonEmptyString()),
    roles: Type.Optional(Type.Array(NonEmptyString())),
    scopes: Type.Optional(Type.Array(NonEmptyString())),
    instanceId: Type.Optional(NonEmptyString()),
  },
  { additionalProperties: false },
);
export type PresenceEntry = Static<typeof PresenceEntry>;

/** Payload of the `presence` event: the whole current list. */
export const PresenceEvent = Type.Object({ presence: Type.Array(PresenceEntry) }, { additionalProperties: false });
export type PresenceEvent = Static<typeof PresenceEvent>;
