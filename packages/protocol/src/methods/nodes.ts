import { type Static, Type } from "@sinclair/typebox";
import { NonEmptyString, NonNegativeInteger, TimestampMs } from "../primitives.js";

/** A node (a device that exposes commands) as listed. */
export const NodeSummary = Type.Object(
  {
    nodeId: NonEmptyString(),
    displayName: Type.Optional(NonEmptyString()),
    platform: Type.Optional(NonEmptyString()),
    version: Type.Optional(NonEmptyString()),
    caps: Type.Array(NonEmptyString()),
    commands: Type.Array(NonEmptyString()),
    paired: Type.Boolean(),
    connected: Type.Boolean(),
    connectedAtMs: Type.Optional(TimestampMs()),
  },
  { additionalProperties: false },
);
export type NodeSummary = Static<typeof NodeSummary>;

/** Result of `node.list`. */
export const NodeListResult = Type.Object(
  { ts: TimestampMs(), nodes: Type.Array(NodeSummary) },
  { additionalProperties: false },
);
export type NodeListResult = Static<typeof NodeListResult>;

/** Params of `node.describe`. */
export const NodeDescribeParams = Type.Object({ nodeId: NonEmptyString() });
export type NodeDescribeParams = Static<typeof NodeDescribeParams>;

/** Params of `node.rename`. */
export const NodeRenameParams = Type.Object({ nodeId: NonEmptyString(), displayName: NonEmptyString() });
export type NodeRenameParams = Static<typeof NodeRenameParams>;

/** Result of `node.rename`. */
export const NodeRenameResult = Type.Object(
  { nodeId: NonEmptyString(), displayName: NonEmptyString() },
  { additionalProperties: false },
);
export type NodeRenameResult = Static<typeof NodeRenameResult>;

/** Params of `node.invoke`: run a command on a node and wait for its answer. */
export const NodeInvokeParams = Type.Object({
  nodeId: NonEmptyString(),
  command: NonEmptyString(),
  params: Type.Optional(Type.Unknown()),
  timeoutMs: Type.Optional(NonNegativeInteger()),
  idempotencyKey: NonEmptyString({ maxLength: 256 }),
  sessionKey: Type.Optional(NonEmptyString()),
});
export type NodeInvokeParams = Static<typeof NodeInvokeParams>;

/** A node's error answer. */
export const NodeInvokeError = Type.Object(
  { code: Type.Optional(NonEmptyString()), message: Type.Optional(NonEmptyString()) },
  { additionalProperties: false },
);

/** Result of `node.invoke`. */
export const NodeInvokeResult = Type.Object(
  {
    ok: Type.Boolean(),
    nodeId: NonEmptyString(),
    command: NonEmptyString(),
    payload: Type.Optional(Type.Unknown()),
    error: Type.Optional(NodeInvokeError),
  },
  { additionalProperties: false },
);
export type NodeInvokeResult = Static<typeof NodeInvokeResult>;

/** Payload of `node.invoke.request`, sent to the node that must run the command. */
export const NodeInvokeRequestEvent = Type.Object(
  {
    id: NonEmptyString(),
    nodeId: NonEmptyString(),
    command: NonEmptyString(),
    paramsJSON: Type.Optional(Type.String()),
    timeoutMs: Type.Optional(NonNegativeInteger()),
    idempotencyKey: Type.Optional(NonEmptyString()),
  },
  { additionalProperties: false },
);
export type NodeInvokeRequestEvent = Static<typeof NodeInvokeRequestEvent>;

/** Params of `node.invoke.result`: the node answers an invoke request. */
export const NodeInvokeResultParams = Type.Object({
  id: NonEmptyString(),
  nodeId: NonEmptyString(),
  ok: Type.Boolean(),
  payload: Type.Optional(Type.Unknown()),
  payloadJSON: Type.Optional(Type.String()),
  error: Type.Optional(
    Type.Object({ code: Type.Optional(NonEmptyString()), message: Type.Optional(NonEmptyString()) }),
  ),
});
export type NodeInvokeResultParams = Static<typeof NodeInvokeResultParams>;

/** Params of `node.event`: a node reports something. */
export const NodeEventParams = Type.Object({
  event: NonEmptyString(),
  payload: Type.Optional(Type.Unknown()),
  payloadJSON: Type.Optional(Type.String()),
});
export type NodeEventParams = Static<typeof NodeEventParams>;

/** Result of `node.event`. */
export const NodeEventResult = Type.Object(
  {
    ok: Type.Boolean(),
    event: NonEmptyString(),
    handled: Type.Boolean(),
    reason: Type.Optional(NonEmptyString()),
  },
  { additionalProperties: false },
);
export type NodeEventResult = Static<typeof NodeEventResult>;
