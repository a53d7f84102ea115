import { type Static, Type } from "@sinclair/typebox";
import { NonNegativeInteger } from "./primitives.js";

export {
  type ConnectErrorDetailCode,
  ConnectErrorDetailCodes,
  type ErrorCode,
  ErrorCodes,
} from "./errors-constants.js";

/** The error of a failed response. Never carries a stack trace. */
export const ErrorShape = Type.Object(
  {
    code: Type.String({ minLength: 1, description: "One of ErrorCodes" }),
    message: Type.String({ minLength: 1, description: "A human sentence that says what failed and what to do" }),
    details: Type.Optional(Type.Unknown()),
    retryable: Type.Optional(Type.Boolean()),
    retryAfterMs: Type.Optional(NonNegativeInteger()),
  },
  { additionalProperties: false },
);
export type ErrorShape = Static<typeof ErrorShape>;

/** `details` of a refused `connect`. */
export const ConnectErrorDetails = Type.Object({
  code: Type.String({ minLength: 1, description: "One of ConnectErrorDetailCodes" }),
  reason: Type.Optional(Type.String()),
  requestId: Type.Optional(Type.String({ minLength: 1 })),
  supportedProtocol: Type.Optional(Type.Object({ min: Type.Integer(), max: Type.Integer() })),
});
export type ConnectErrorDetails = Static<typeof ConnectErrorDetails>;
