/** An error from a platform, with the operation that failed and whether retrying can help. */
export class ChannelError extends Error {
  override name = "ChannelError";
  readonly operation: string;
  /** Retrying cannot fix it (a revoked token, another process owning the session). */
  readonly fatal: boolean;
  /** The platform asked to wait this long (HTTP 429 `retry-after`). */
  readonly retryAfterMs: number | undefined;

  constructor(
    operation: string,
    message: string,
    options: { fatal?: boolean; retryAfterMs?: number; cause?: unknown } = {},
  ) {
    super(`${operation}: ${message}`, options.cause === undefined ? undefined : { cause: options.cause });
    this.operation = operation;
    this.fatal = options.fatal ?? false;
    this.retryAfterMs = options.retryAfterMs;
  }
}

/**
 * Whether an error is a ChannelError. Checked by shape, not `instanceof`: a plugin package and the gateway may each
 * carry their own copy of this SDK, and the gateway must still understand the plugin's errors.
 */
export const isChannelError = (error: unknown): error is ChannelError =>
  error instanceof ChannelError ||
  (error instanceof Error && error.name === "ChannelError" && typeof (error as ChannelError).fatal === "boolean");

/** Whether an error says retrying is pointless. */
export const isFatal = (error: unknown): boolean => isChannelError(error) && error.fatal;

/** How long the platform asked to wait before the next attempt (HTTP 429), if it did. */
export const retryAfterOf = (error: unknown): number | undefined =>
  isChannelError(error) ? error.retryAfterMs : undefined;

/**
 * Run `fn`, wrapping what it throws in a ChannelError naming `operation` (a ChannelError passes through; `classify`
 * decides fatal/retry-after for others).
 */
export async function wrapError<T>(
  operation: string,
  fn: () => Promise<T>,
  classify: (error: unknown) => { fatal?: boolean; retryAfterMs?: number } = () => ({}),
): Promise<T> {
  try {
    return await fn();
  } catch (error) {
    if (isChannelError(error)) throw error;
    const message = error instanceof Error ? error.message : String(error);
    throw new ChannelError(operation, message, { ...classify(error), cause: error });
  }
}
