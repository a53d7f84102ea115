import type { ErrorShape } from "@gateway/protocol";

const marker = Symbol.for("gateway.client.error");

/** Why a request or the connection failed. `code` is a protocol error code or one of the client's own. */
export type ClientErrorCode =
  | "NOT_LINKED"
  | "NOT_PAIRED"
  | "AGENT_TIMEOUT"
  | "FORBIDDEN"
  | "INVALID_REQUEST"
  | "UNAVAILABLE"
  | "UNREACHABLE"
  | "DISCONNECTED"
  | "TIMEOUT"
  | "CLOSED"
  | (string & {});

/** An error from the gateway (its error shape) or from the connection, with a sentence that says what to do. */
export class GatewayClientError extends Error {
  readonly [marker] = true;
  readonly code: ClientErrorCode;
  /** `details.code` of a refused `connect` (AUTH_TOKEN_MISMATCH, PAIRING_REQUIRED…). */
  readonly detailCode: string | undefined;
  readonly details: unknown;
  /** Whether trying again (after a reconnect) can succeed. */
  readonly retryable: boolean;
  readonly retryAfterMs: number | undefined;

  constructor(
    code: ClientErrorCode,
    message: string,
    options: { details?: unknown; retryable?: boolean; retryAfterMs?: number; cause?: unknown } = {},
  ) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = "GatewayClientError";
    this.code = code;
    this.details = options.details;
    this.detailCode =
      typeof options.details === "object" && options.details !== null
        ? ((options.details as { code?: string }).code ?? undefined)
        : undefined;
    this.retryable = options.retryable ?? false;
    this.retryAfterMs = options.retryAfterMs;
  }

  /** Recognises client errors across package copies (no `instanceof`). */
  static isInstance(value: unknown): value is GatewayClientError {
    return typeof value === "object" && value !== null && (value as Record<symbol, unknown>)[marker] === true;
  }

  /** From a response's error shape. */
  static fromShape(shape: ErrorShape): GatewayClientError {
    return new GatewayClientError(shape.code, shape.message, {
      details: shape.details,
      retryable: shape.retryable ?? false,
      ...(shape.retryAfterMs !== undefined ? { retryAfterMs: shape.retryAfterMs } : {}),
    });
  }
}

const CONNECT_ADVICE: Record<string, string> = {
  AUTH_TOKEN_MISSING: "the gateway needs a token: pass `token` (it is gateway.auth.token in the gateway's config)",
  AUTH_TOKEN_MISMATCH: "the gateway refused the token: use gateway.auth.token from its config (`gateway config path`)",
  AUTH_PASSWORD_MISSING: "the gateway needs a password: pass `password`",
  AUTH_PASSWORD_MISMATCH: "the gateway refused the password",
  AUTH_RATE_LIMITED: "too many failed attempts from this address: wait and try again",
  ORIGIN_NOT_ALLOWED: "this page's origin is not allowed: add it to gateway.controlUi.allowedOrigins",
  PROTOCOL_UNSUPPORTED: "the gateway speaks another protocol version: update the client or the gateway",
  PAIRING_REQUIRED: "this device must be approved first: approve it from an operator (device.pair.approve)",
  DEVICE_IDENTITY_REQUIRED: "this role needs a paired device identity",
};

/** A refused handshake as an error whose message says what to do. */
export function connectRefusal(shape: ErrorShape): GatewayClientError {
  const error = GatewayClientError.fromShape(shape);
  const advice = error.detailCode ? CONNECT_ADVICE[error.detailCode] : undefined;
  if (!advice) return error;
  return new GatewayClientError(shape.code, `${shape.message} (${advice})`, {
    details: shape.details,
    retryable: error.detailCode === "AUTH_RATE_LIMITED",
    ...(shape.retryAfterMs !== undefined ? { retryAfterMs: shape.retryAfterMs } : {}),
  });
}
