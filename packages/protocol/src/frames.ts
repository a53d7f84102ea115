import { type Static, Type } from "@sinclair/typebox";
import { ErrorShape } from "./errors.js";
import { NonNegativeInteger } from "./primitives.js";

/** Versions of the state a client mirrors; they increase on every presence or health change. */
export const StateVersion = Type.Object(
  { presence: NonNegativeInteger(), health: NonNegativeInteger() },
  { additionalProperties: false },
);
export type StateVersion = Static<typeof StateVersion>;

/**
 * A request from a client. Unknown top-level fields are ignored (a newer client may send more), but `params`
 * is validated against the method's own schema before any handler runs.
 */
export const RequestFrame = Type.Object({
  type: Type.Literal("req"),
  id: Type.String({ minLength: 1, maxLength: 256 }),
  method: Type.String({ minLength: 1, maxLength: 256 }),
  params: Type.Optional(Type.Unknown()),
  traceparent: Type.Optional(Type.String({ maxLength: 128 })),
});
export type RequestFrame = Static<typeof RequestFrame>;

/** The answer to a request: `ok` with a payload, or an error. */
export const ResponseFrame = Type.Object(
  {
    type: Type.Literal("res"),
    id: Type.String({ minLength: 1 }),
    ok: Type.Boolean(),
    payload: Type.Optional(Type.Unknown()),
    error: Type.Optional(ErrorShape),
  },
  { additionalProperties: false },
);
export type ResponseFrame = Static<typeof ResponseFrame>;

/** A server-pushed event. `seq` is per connection and monotonic; a gap means the client should refetch. */
export const EventFrame = Type.Object(
  {
    type: Type.Literal("event"),
    event: Type.String({ minLength: 1 }),
    payload: Type.Optional(Type.Unknown()),
    seq: Type.Optional(NonNegativeInteger()),
    stateVersion: Type.Optional(StateVersion),
  },
  { additionalProperties: false },
);
export type EventFrame = Static<typeof EventFrame>;

/** Any frame on the wire, discriminated by `type`. */
export const GatewayFrame = Type.Union([RequestFrame, ResponseFrame, EventFrame]);
export type GatewayFrame = Static<typeof GatewayFrame>;
