// What a closed WhatsApp connection means and what to do about it. Baileys closes with a Boom error whose
// `output.statusCode` is WhatsApp's reason; a dropped socket or a garbage frame has no code at all.
import { ChannelNetworkError, ChannelPlatformError } from "@gateway/plugin-sdk";

/** The status code of a Baileys close (undefined when there is none: a network failure, a garbage frame). */
export function disconnectCode(error: unknown): number | undefined {
  const output = (error as { output?: { statusCode?: unknown } } | undefined)?.output;
  return typeof output?.statusCode === "number" ? output.statusCode : undefined;
}

/** The connection states an account reports (`connectionState` in status). */
export type ConnectionState =
  | "not-linked"
  | "connecting"
  | "open"
  | "reconnecting"
  | "logged-out"
  | "replaced"
  | "stale-version"
  | "refused"
  | "stopped";

/** What to do after a close. */
export type DisconnectDecision =
  /** Make a new socket now, no backoff (515 restart required, expected right after a login). */
  | { action: "restart"; reason: string }
  /** Reconnect after a backoff with jitter. */
  | { action: "retry"; reason: string; error: Error }
  /** Stop: retrying cannot help. `wipe`: the credentials are dead and are removed. */
  | { action: "stop"; reason: string; state: ConnectionState; wipe: boolean; error: Error };

const NAMES: Record<number, string> = {
  401: "logged out",
  403: "forbidden",
  405: "method not allowed",
  408: "timed out",
  411: "multi-device mismatch",
  428: "connection closed",
  440: "connection replaced",
  500: "bad session",
  503: "service unavailable",
  515: "restart required",
};

/** `440 connection replaced`, or the error's own message when there is no code. */
export function describeDisconnect(code: number | undefined, error: unknown): string {
  if (code === undefined) return `no status code: ${(error as Error | undefined)?.message ?? "the connection dropped"}`;
  return `${code} ${NAMES[code] ?? (error as Error | undefined)?.message ?? "closed"}`;
}

/**
 * The policy: 401 → the device was unlinked: wipe the credentials, say how to log in again, no reconnect; 440 →
 * another client took the session: stop; 405 → the WA Web version is stale; 403/411 → refused; 515 → new socket at
 * once; 428/408/500/503/anything else or no code → reconnect with backoff and jitter.
 */
export function decideDisconnect(error: unknown, loginCommand: string): DisconnectDecision {
  const code = disconnectCode(error);
  const reason = describeDisconnect(code, error);
  const fatal = (state: ConnectionState, message: string, wipe = false): DisconnectDecision => ({
    action: "stop",
    reason,
    state,
    wipe,
    error: new ChannelPlatformError("connect", message, { status: code, fatal: true, cause: error }),
  });
  switch (code) {
    case 515:
      return { action: "restart", reason };
    case 401:
      return fatal(
        "logged-out",
        `WhatsApp logged this device out (401): its credentials were removed. Link it again with: ${loginCommand}`,
        true,
      );
    case 440:
      return fatal(
        "replaced",
        "another WhatsApp Web client took over this session (440 connection replaced): stop the other gateway or WhatsApp Web tab using this number, then restart this account",
      );
    case 405:
      return fatal(
        "stale-version",
        "the WhatsApp Web version is stale: set channels.whatsapp.waVersion or update (WhatsApp answered 405)",
      );
    case 403:
      return fatal("refused", "WhatsApp refused this account (403 forbidden): check the number in the WhatsApp app");
    case 411:
      return fatal(
        "refused",
        `WhatsApp refused this device (411 multi-device mismatch): link it again with: ${loginCommand}`,
      );
    case undefined:
      return {
        action: "retry",
        reason,
        error: new ChannelNetworkError("connect", `the WhatsApp connection failed (${reason})`, { cause: error }),
      };
    default:
      return {
        action: "retry",
        reason,
        error: new ChannelPlatformError("connect", `WhatsApp closed the connection (${reason})`, {
          status: code,
          cause: error,
        }),
      };
  }
}
