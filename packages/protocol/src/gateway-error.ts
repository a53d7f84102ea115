import type { ErrorShape } from "./errors.js";
import { type ErrorCode, ErrorCodes } from "./errors-constants.js";

const marker = Symbol.for("gateway.error");

/**
 * The error a method handler throws to answer with a protocol error. Its `message` goes to the client, so it must be
 * safe and say what to do; anything else a handler throws becomes `UNAVAILABLE` with a generic message.
 */
export class GatewayError extends Error {
  readonly [marker] = true;
  readonly code: ErrorCode;
  readonly details?: unknown;
  readonly retryable?: boolean;
  readonly retryAfterMs?: number;

  constructor(
    code: ErrorCode,
    message: string,
    options: { details?: unknown; retryable?: boolean; retryAfterMs?: number; cause?: unknown } = {},
  ) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = "GatewayError";
    this.code = code;
    if (options.details !== undefined) this.details = options.details;
    if (options.retryable !== undefined) this.retryable = options.retryable;
    if (options.retryAfterMs !== undefined) this.retryAfterMs = options.retryAfterMs;
  }

  /** Whether `value` is a GatewayError, across package copies (no `instanceof`). */
  static isInstance(value: unknown): value is GatewayError {
    return typeof value === "object" && value !== null && (value as Record<symbol, unknown>)[marker] === true;
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
  new GatewayError(ErrorCodes.INVALID_REQUEST, message, details === undefined ? {} : { details });

/** `UNAVAILABLE`, retryable. */
export const unavailable = (message: string, retryAfterMs?: number) =>
  new GatewayError(
    ErrorCodes.UNAVAILABLE,
    message,
    retryAfterMs === undefined ? { retryable: true } : { retryable: true, retryAfterMs },
  );
