// Channel errors, split by what failed (as grammY does): the platform answered with an error, the network failed, or
// the plugin itself could not go on (missing settings, a bug). Each names the operation and says whether retrying
// can help. They are GatewayErrors, recognised across copies of this SDK by `Symbol.for` markers: a plugin package
// and the gateway may each carry their own copy, and the gateway must still understand the plugin's errors.
import { GatewayError, hasErrorMarker, ProtocolError } from "@gateway/protocol";

const CHANNEL_ERROR = Symbol.for("gateway.error.channel");
const PLATFORM_ERROR = Symbol.for("gateway.error.channel.platform");
const NETWORK_ERROR = Symbol.for("gateway.error.channel.network");
const PLUGIN_ERROR = Symbol.for("gateway.error.channel.plugin");

/** What failed: the platform's answer, the way to it, or the plugin. */
export type ChannelFailure = "platform" | "network" | "plugin";

/** Options every channel error takes. */
export interface ChannelErrorOptions {
  /** Retrying cannot fix it (a revoked token, another process owning the session). @default false */
  fatal?: boolean;
  /** The platform asked to wait this long before the next attempt (HTTP 429 `retry-after`). */
  retryAfterMs?: number;
  /** The platform library's error. */
  cause?: unknown;
}

/**
 * An error of a channel account: the operation that failed (`sendMessage: 403 Forbidden: bot was blocked`), whether
 * retrying is pointless, and how long the platform asked to wait. Throw one of the three subclasses.
 */
export abstract class ChannelError extends GatewayError {
  readonly [CHANNEL_ERROR] = true;
  abstract readonly failure: ChannelFailure;
  readonly operation: string;
  readonly fatal: boolean;
  readonly retryAfterMs: number | undefined;

  protected constructor(code: string, operation: string, message: string, options: ChannelErrorOptions) {
    super(code, `${operation}: ${message}`, options.cause === undefined ? {} : { cause: options.cause });
    this.operation = operation;
    this.fatal = options.fatal ?? false;
    this.retryAfterMs = options.retryAfterMs;
  }

  /** Whether `value` is a channel error of any kind, from any copy of this SDK. */
  static override isInstance(value: unknown): value is ChannelError {
    return hasErrorMarker(value, CHANNEL_ERROR);
  }

  /** A client that asked for a send sees the reason; it may retry unless the error is fatal. */
  override toProtocolError(): ProtocolError {
    return new ProtocolError("UNAVAILABLE", this.message, {
      retryable: !this.fatal,
      ...(this.retryAfterMs !== undefined ? { retryAfterMs: this.retryAfterMs } : {}),
      cause: this,
    });
  }
}

/** The platform answered with an error (HTTP status, API error code, gateway close code in `status`). */
export class ChannelPlatformError extends ChannelError {
  readonly [PLATFORM_ERROR] = true;
  readonly failure = "platform" as const;
  /** The platform's own code: an HTTP status, a close code, an error name (`invalid_auth`). */
  readonly status: number | string | undefined;

  constructor(operation: string, message: string, options: ChannelErrorOptions & { status?: number | string } = {}) {
    super("CHANNEL_PLATFORM", operation, message, options);
    this.status = options.status;
  }

  static override isInstance(value: unknown): value is ChannelPlatformError {
    return hasErrorMarker(value, PLATFORM_ERROR);
  }
}

/** The platform could not be reached (DNS, refused, reset, timeout). Always worth retrying. */
export class ChannelNetworkError extends ChannelError {
  readonly [NETWORK_ERROR] = true;
  readonly failure = "network" as const;

  constructor(operation: string, message: string, options: Omit<ChannelErrorOptions, "fatal"> = {}) {
    super("CHANNEL_NETWORK", operation, message, { ...options, fatal: false });
  }

  static override isInstance(value: unknown): value is ChannelNetworkError {
    return hasErrorMarker(value, NETWORK_ERROR);
  }
}

/** The plugin cannot go on: a setting is missing or wrong, or its own code failed. */
export class ChannelPluginError extends ChannelError {
  readonly [PLUGIN_ERROR] = true;
  readonly failure = "plugin" as const;

  constructor(operation: string, message: string, options: ChannelErrorOptions = {}) {
    super("CHANNEL_PLUGIN", operation, message, options);
  }

  static override isInstance(value: unknown): value is ChannelPluginError {
    return hasErrorMarker(value, PLUGIN_ERROR);
  }
}

/** Whether an error says retrying is pointless. */
export const isFatal = (error: unknown): boolean => ChannelError.isInstance(error) && error.fatal;

/** How long the platform asked to wait before the next attempt (HTTP 429), if it did. */
export const retryAfterOf = (error: unknown): number | undefined =>
  ChannelError.isInstance(error) ? error.retryAfterMs : undefined;

/**
 * Run `fn`, turning what it throws into a ChannelError naming `operation`: a ChannelError passes through, anything
 * else goes through `classify` (the plugin knows its library's errors), or becomes a ChannelPluginError.
 */
export async function wrapError<T>(
  operation: string,
  fn: () => Promise<T>,
  classify: (operation: string, error: unknown) => ChannelError = toChannelError,
): Promise<T> {
  try {
    return await fn();
  } catch (error) {
    throw ChannelError.isInstance(error) ? error : classify(operation, error);
  }
}

/** A ChannelError for anything thrown: passed through when it is one, else a (retryable) ChannelPluginError. */
export function toChannelError(operation: string, error: unknown): ChannelError {
  if (ChannelError.isInstance(error)) return error;
  return new ChannelPluginError(operation, error instanceof Error ? error.message : String(error), { cause: error });
}
