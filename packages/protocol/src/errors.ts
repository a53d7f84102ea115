import { type Static, Type } from "@sinclair/typebox";
import { NonNegativeInteger } from "./primitives.js";

/** Error codes of a failed response (`res.error.code`). */
export const ErrorCodes = {
  NOT_LINKED: "NOT_LINKED",
  NOT_PAIRED: "NOT_PAIRED",
  AGENT_TIMEOUT: "AGENT_TIMEOUT",
  FORBIDDEN: "FORBIDDEN",
  INVALID_REQUEST: "INVALID_REQUEST",
  UNAVAILABLE: "UNAVAILABLE",
} as const;
export type ErrorCode = (typeof ErrorCodes)[keyof typeof ErrorCodes];

/** `details.code` of a refused `connect`: why the handshake failed, so a client can tell the user what to do. */
export const ConnectErrorDetailCodes = {
  AUTH_REQUIRED: "AUTH_REQUIRED",
  AUTH_TOKEN_MISSING: "AUTH_TOKEN_MISSING",
  AUTH_TOKEN_MISMATCH: "AUTH_TOKEN_MISMATCH",
  AUTH_PASSWORD_MISSING: "AUTH_PASSWORD_MISSING",
  AUTH_PASSWORD_MISMATCH: "AUTH_PASSWORD_MISMATCH",
  AUTH_DEVICE_TOKEN_MISMATCH: "AUTH_DEVICE_TOKEN_MISMATCH",
  AUTH_RATE_LIMITED: "AUTH_RATE_LIMITED",
  ORIGIN_NOT_ALLOWED: "ORIGIN_NOT_ALLOWED",
  PROTOCOL_UNSUPPORTED: "PROTOCOL_UNSUPPORTED",
  ROLE_NOT_ALLOWED: "ROLE_NOT_ALLOWED",
  DEVICE_IDENTITY_REQUIRED: "DEVICE_IDENTITY_REQUIRED",
  DEVICE_AUTH_SIGNATURE_INVALID: "DEVICE_AUTH_SIGNATURE_INVALID",
  DEVICE_AUTH_SIGNATURE_EXPIRED: "DEVICE_AUTH_SIGNATURE_EXPIRED",
  DEVICE_AUTH_NONCE_MISMATCH: "DEVICE_AUTH_NONCE_MISMATCH",
  DEVICE_AUTH_DEVICE_ID_MISMATCH: "DEVICE_AUTH_DEVICE_ID_MISMATCH",
  PAIRING_REQUIRED: "PAIRING_REQUIRED",
} as const;
export type ConnectErrorDetailCode = (typeof ConnectErrorDetailCodes)[keyof typeof ConnectErrorDetailCodes];

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
