import type { ErrorShape } from "./errors.js";
import { type ErrorCode, ErrorCodes } from "./errors-constants.js";

const GATEWAY_ERROR = Symbol.for("gateway.error");
const PROTOCOL_ERROR = Symbol.for("gateway.error.protocol");

/** Whether `value` carries `marker` (a `Symbol.for` key: the same in every copy of a package). */
export function hasErrorMarker(value: unknown, marker: symbol): boolean {
  return typeof value === "object" && value !== null && (value as Record<symbol, unknown>)[marker] === true;
}

/**
 * The base of every error the gateway's packages throw: a stable `code` to branch on (never the message text), a
 * message that names the operation and says what to do, and the underlying error as `cause`. Recognised across
 * package copies by a `Symbol.for` marker (`GatewayError.isInstance`), never by `instanceof`.
 */
export class GatewayError extends Error {
  readonly [GATEWAY_ERROR] = true;
  /** Stable, e.g. `INVALID_REQUEST`, `CONFIG_INVALID`, `CHANNEL_PLATFORM`, `STATE_LOCKED`. */
  readonly code: string;

  constructor(code: string, message: string, options: { cause?: unknown } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.code = code;
  }

  /** Whether `value` is a GatewayError (of any subclass), across package copies. */
  static isInstance(value: unknown): value is GatewayError {
    return hasErrorMarker(value, GATEWAY_ERROR);
  }

  /**
   * What a client gets when this error escapes a method handler. The default is `UNAVAILABLE` with the message
   * (gateway errors are written for people); subclasses say better (a config error is the caller's request).
   */
  toProtocolError(): ProtocolError {
    return new ProtocolError(ErrorCodes.UNAVAILABLE, this.message, { retryable: true, cause: this });
  }
}

/**
 * The error a method handler throws to answer with a protocol error (`{code, message, details?, retryable?,
 * retryAfterMs?}`). Its `message` goes to the client, so it must be safe and say what to do; anything that is not a
 * GatewayError becomes `UNAVAILABLE` with a generic message.
 */
export class ProtocolError extends GatewayError {
  readonly [PROTOCOL_ERROR] = true;
  declare readonly code: ErrorCode;
  readonly details?: unknown;
  readonly retryable?: boolean;
  readonly retryAfterMs?: number;

  constructor(
    code: ErrorCode,
    message: string,
    options: { details?: unknown; retryable?: boolean; retryAfterMs?: number; cause?: unknown } = {},
  ) {
    super(code, message, options.cause === undefined ? {} : { cause: options.cause });
    if (options.details !== undefined) this.details = options.details;
    if (options.retryable !== undefined) this.retryable = options.retryable;
    if (options.retryAfterMs !== undefined) this.retryAfterMs = options.retryAfterMs;
  }

  /** Whether `value` is a ProtocolError, across package copies. */
  static override isInstance(value: unknown): value is ProtocolError {
    return hasErrorMarker(value, PROTOCOL_ERROR);
  }

  override toProtocolError(): ProtocolError {
    return this;
  }

  /** The protocol error shape sent to the client. */
  toShape(): ErrorShape {
    const shape: ErrorShape = { code: this.code, message: this.message };
    if (this.details !== undefined) shape.details = this.details;
    if (this.retryable !== undefined) shape.retryable = this.retryable;
    if (this.retryAfterMs !== undefined) shape.retryAfterMs = Math.max(0, Math.round(this.retryAfterMs));
    return shape;
  }
}

/** `INVALID_REQUEST` with a message. */
export const invalidRequest = (message: string, details?: unknown) =>
  new ProtocolError(ErrorCodes.INVALID_REQUEST, message, details === undefined ? {} : { details });

/** `UNAVAILABLE`, retryable. */
export const unavailable = (message: string, retryAfterMs?: number) =>
  new ProtocolError(
    ErrorCodes.UNAVAILABLE,
    message,
    retryAfterMs === undefined ? { retryable: true } : { retryable: true, retryAfterMs },
  );
