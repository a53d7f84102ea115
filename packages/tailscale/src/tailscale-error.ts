/** What went wrong with Tailscale, as a stable code. */
export type TailscaleErrorCode =
  | "not-installed"
  | "daemon-unreachable"
  | "not-running"
  | "access-denied"
  | "funnel-unavailable"
  | "needs-auth"
  | "port-taken"
  | "command-failed"
  | "unexpected-output";

const MARKER = Symbol.for("gateway.tailscale.error");

/** A Tailscale operation that failed, with the command, what it printed, and what to do about it. */
export class TailscaleError extends Error {
  readonly [MARKER] = true;
  override readonly name = "TailscaleError";

  constructor(
    readonly code: TailscaleErrorCode,
    message: string,
    options: { cause?: unknown; command?: readonly string[]; stderr?: string } = {},
  ) {
    super(message, options.cause !== undefined ? { cause: options.cause } : undefined);
    this.command = options.command;
    this.stderr = options.stderr;
  }

  readonly command: readonly string[] | undefined;
  readonly stderr: string | undefined;

  /** Recognises a TailscaleError across package copies (no `instanceof`). */
  static isInstance(value: unknown): value is TailscaleError {
    return typeof value === "object" && value !== null && (value as Record<symbol, unknown>)[MARKER] === true;
  }
}
