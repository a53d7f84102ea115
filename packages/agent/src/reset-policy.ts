// When a session starts over: by itself under the reset policy, or when a message starts with a reset trigger.
import type { SessionEntry } from "./session-store.js";

/** When a session starts over by itself (its old transcript is kept). */
export interface ResetPolicy {
  /** `daily`: the first message after `atHour` (local time) starts a new session; `idle`: after `idleMinutes`. */
  mode: "off" | "daily" | "idle";
  /** @default 4 */
  atHour?: number;
  /** @default 240 */
  idleMinutes?: number;
}

/** Whether the session is due for a new one under the reset policy. */
export function isStale(entry: SessionEntry, now: number, policy: ResetPolicy | undefined): boolean {
  if (!policy || policy.mode === "off") return false;
  if (policy.mode === "idle") return now - entry.updatedAt > (policy.idleMinutes ?? 240) * 60_000;
  const boundary = new Date(now);
  boundary.setHours(policy.atHour ?? 4, 0, 0, 0);
  if (boundary.getTime() > now) boundary.setDate(boundary.getDate() - 1);
  return entry.updatedAt < boundary.getTime();
}

/** The reset trigger a message is or starts with (`/new hello`), if any. */
export function resetTrigger(message: string, triggers: readonly string[] = ["/new", "/reset"]): string | undefined {
  return triggers.find((candidate) => message === candidate || message.startsWith(`${candidate} `));
}
