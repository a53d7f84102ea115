import { GatewayError, hasErrorMarker } from "@gateway/protocol";

const STATE_ERROR = Symbol.for("gateway.error.state");

/** Why a state operation failed, as a stable code. */
export type StateErrorCode =
  /** The disk (or the file system's quota) is full: nothing was written. */
  | "STATE_DISK_FULL"
  /** A write failed for another reason (permissions, I/O). */
  | "STATE_WRITE_FAILED"
  /** A file could not be read, or did not hold what it should. */
  | "STATE_UNREADABLE"
  /** Another gateway process uses this state directory. */
  | "STATE_LOCKED";

/** A failed read or write of the state directory, with the file and the fix in the message. */
export class StateError extends GatewayError {
  readonly [STATE_ERROR] = true;
  declare readonly code: StateErrorCode;

  constructor(
    code: StateErrorCode,
    message: string,
    readonly path: string,
    options: { cause?: unknown } = {},
  ) {
    super(code, message, options);
  }

  /** Whether `value` is a StateError, across package copies. */
  static override isInstance(value: unknown): value is StateError {
    return hasErrorMarker(value, STATE_ERROR);
  }

  /** A write that failed for an I/O reason: ENOSPC and EDQUOT are a full disk, said so. */
  static fromWrite(path: string, error: unknown): StateError {
    if (StateError.isInstance(error)) return error;
    const code = (error as NodeJS.ErrnoException | undefined)?.code;
    if (code === "ENOSPC" || code === "EDQUOT")
      return new StateError(
        "STATE_DISK_FULL",
        `disk full: could not write ${path}; free space on that disk (what the file held before is intact)`,
        path,
        { cause: error },
      );
    return new StateError(
      "STATE_WRITE_FAILED",
      `could not write ${path}: ${code ?? (error as Error)?.message ?? String(error)}`,
      path,
      { cause: error },
    );
  }
}
