import { type Static, Type } from "@sinclair/typebox";
import { NonEmptyString, TimestampMs } from "../primitives.js";

/** A device waiting for approval. */
export const DevicePairRequest = Type.Object(
  {
    requestId: NonEmptyString(),
    deviceId: NonEmptyString(),
    publicKey: NonEmptyString(),
    displayName: Type.Optional(NonEmptyString()),
    platform: Type.Optional(NonEmptyString()),
    deviceFamily: Type.Optional(NonEmptyString()),
    clientId: Type.Optional(NonEmptyString()),
    clientMode: Type.Optional(NonEmptyString()),
    role: Type.Optional(NonEmptyString()),
    scopes: Type.Optional(Type.Array(NonEmptyString())),
    remoteIp: Type.Optional(NonEmptyString()),
    isRepair: Type.Optional(Type.Boolean()),
    ts: TimestampMs(),
  },
  { additionalProperties: false },
);
export type DevicePairRequest = Static<typeof DevicePairRequest>;

/** A paired device. Token values are never listed. */
export const PairedDevice = Type.Object(
  {
    deviceId: NonEmptyString(),
    publicKey: NonEmptyString(),
    displayName: Type.Optional(NonEmptyString()),
    platform: Type.Optional(NonEmptyString()),
    roles: Type.Array(NonEmptyString()),
    scopes: Type.Array(NonEmptyString()),
    pairedAtMs: TimestampMs(),
    lastSeenAtMs: Type.Optional(TimestampMs()),
  },
  { additionalProperties: false },
);
export type PairedDevice = Static<typeof PairedDevice>;

/** Result of `device.pair.list`. */
export const DevicePairListResult = Type.Object(
  { pending: Type.Array(DevicePairRequest), paired: Type.Array(PairedDevice) },
  { additionalProperties: false },
);
export type DevicePairListResult = Static<typeof DevicePairListResult>;

/** Params of `device.pair.approve` and `device.pair.reject`. */
export const DevicePairDecisionParams = Type.Object({ requestId: NonEmptyString() });
export type DevicePairDecisionParams = Static<typeof DevicePairDecisionParams>;

/** Payload of `device.pair.resolved`, and the result of `device.pair.approve` / `device.pair.reject`. */
export const DevicePairResolvedEvent = Type.Object(
  {
    requestId: NonEmptyString(),
    deviceId: NonEmptyString(),
    decision: Type.Union([Type.Literal("approved"), Type.Literal("rejected"), Type.Literal("expired")]),
    ts: TimestampMs(),
  },
  { additionalProperties: false },
);
export type DevicePairResolvedEvent = Static<typeof DevicePairResolvedEvent>;

/** Params of `device.pair.remove`: forget a paired device and revoke its tokens. */
export const DevicePairRemoveParams = Type.Object({ deviceId: NonEmptyString() });
export type DevicePairRemoveParams = Static<typeof DevicePairRemoveParams>;

/** Result of `device.pair.remove`. */
export const DevicePairRemoveResult = Type.Object(
  { ok: Type.Literal(true), deviceId: NonEmptyString(), removed: Type.Boolean() },
  { additionalProperties: false },
);
export type DevicePairRemoveResult = Static<typeof DevicePairRemoveResult>;

/** Params of `device.token.rotate`: issue a new device token (the old one stops working). */
export const DeviceTokenRotateParams = Type.Object({
  deviceId: NonEmptyString(),
  role: NonEmptyString(),
  scopes: Type.Optional(Type.Array(NonEmptyString())),
});
export type DeviceTokenRotateParams = Static<typeof DeviceTokenRotateParams>;

/** Result of `device.token.rotate`. */
export const DeviceTokenRotateResult = Type.Object(
  {
    deviceId: NonEmptyString(),
    role: NonEmptyString(),
    token: NonEmptyString(),
    tokenDelivery: Type.Literal("in-band"),
    scopes: Type.Array(NonEmptyString()),
    rotatedAtMs: TimestampMs(),
  },
  { additionalProperties: false },
);
export type DeviceTokenRotateResult = Static<typeof DeviceTokenRotateResult>;

/** Params of `device.token.revoke`. */
export const DeviceTokenRevokeParams = Type.Object({ deviceId: NonEmptyString(), role: NonEmptyString() });
export type DeviceTokenRevokeParams = Static<typeof DeviceTokenRevokeParams>;

/** Result of `device.token.revoke`. */
export const DeviceTokenRevokeResult = Type.Object(
  { ok: Type.Literal(true), deviceId: NonEmptyString(), role: NonEmptyString(), revoked: Type.Boolean() },
  { additionalProperties: false },
);
export type DeviceTokenRevokeResult = Static<typeof DeviceTokenRevokeResult>;

/** Params of `node.pair.request`: a node asks to be paired (ours; the reference pairs nodes through `connect`). */
export const NodePairRequestParams = Type.Object({
  nodeId: NonEmptyString(),
  displayName: Type.Optional(NonEmptyString()),
  platform: Type.Optional(NonEmptyString()),
  version: Type.Optional(NonEmptyString()),
  caps: Type.Optional(Type.Array(NonEmptyString())),
  commands: Type.Optional(Type.Array(NonEmptyString())),
  silent: Type.Optional(Type.Boolean()),
});
export type NodePairRequestParams = Static<typeof NodePairRequestParams>;

/** A node waiting for approval; the payload of `node.pair.requested`. */
export const NodePairRequest = Type.Object(
  {
    requestId: NonEmptyString(),
    nodeId: NonEmptyString(),
    displayName: Type.Optional(NonEmptyString()),
    platform: Type.Optional(NonEmptyString()),
    version: Type.Optional(NonEmptyString()),
    caps: Type.Optional(Type.Array(NonEmptyString())),
    commands: Type.Optional(Type.Array(NonEmptyString())),
    remoteIp: Type.Optional(NonEmptyString()),
    ts: TimestampMs(),
  },
  { additionalProperties: false },
);
export type NodePairRequest = Static<typeof NodePairRequest>;

/** Result of `node.pair.request`. */
export const NodePairRequestResult = Type.Object(
  { status: Type.Literal("pending"), requestId: NonEmptyString(), created: Type.Boolean() },
  { additionalProperties: false },
);
export type NodePairRequestResult = Static<typeof NodePairRequestResult>;

/** A paired node. */
export const PairedNode = Type.Object(
  {
    nodeId: NonEmptyString(),
    displayName: Type.Optional(NonEmptyString()),
    platform: Type.Optional(NonEmptyString()),
    caps: Type.Array(NonEmptyString()),
    commands: Type.Array(NonEmptyString()),
    pairedAtMs: TimestampMs(),
  },
  { additionalProperties: false },
);
export type PairedNode = Static<typeof PairedNode>;

/** Result of `node.pair.list`. */
export const NodePairListResult = Type.Object(
  { pending: Type.Array(NodePairRequest), paired: Type.Array(PairedNode) },
  { additionalProperties: false },
);
export type NodePairListResult = Static<typeof NodePairListResult>;

/** Params of `node.pair.approve` and `node.pair.reject`. */
export const NodePairDecisionParams = Type.Object({ requestId: NonEmptyString() });
export type NodePairDecisionParams = Static<typeof NodePairDecisionParams>;

/** Payload of `node.pair.resolved`, and the result of `node.pair.approve` / `node.pair.reject`. */
export const NodePairResolvedEvent = Type.Object(
  {
    requestId: NonEmptyString(),
    nodeId: NonEmptyString(),
    decision: Type.Union([Type.Literal("approved"), Type.Literal("rejected"), Type.Literal("expired")]),
    token: Type.Optional(NonEmptyString({ description: "Only in the approve result, never in the event" })),
    ts: TimestampMs(),
  },
  { additionalProperties: false },
);
export type NodePairResolvedEvent = Static<typeof NodePairResolvedEvent>;

/** Params of `node.pair.verify`: check a node's pairing token (ours). */
export const NodePairVerifyParams = Type.Object({ nodeId: NonEmptyString(), token: NonEmptyString() });
export type NodePairVerifyParams = Static<typeof NodePairVerifyParams>;

/** Result of `node.pair.verify`. */
export const NodePairVerifyResult = Type.Object(
  { ok: Type.Boolean(), nodeId: NonEmptyString() },
  { additionalProperties: false },
);
export type NodePairVerifyResult = Static<typeof NodePairVerifyResult>;
