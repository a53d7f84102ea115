import { createHash } from "node:crypto";
import type { CronSchedule } from "@gateway/protocol";
import { Cron } from "croner";

/** How far top-of-hour jobs are spread when their schedule sets no `staggerMs`. */
export const DEFAULT_STAGGER_MS = 5 * 60_000;

/** `15m`, `2h`, `30s`, `1d`, `500ms` or a plain number of milliseconds. */
export function parseDuration(text: string): number {
  const match = /^(\d+(?:\.\d+)?)\s*(ms|s|m|h|d)?$/.exec(text.trim());
  if (!match) throw new Error(`"${text}" is not a duration (use 30s, 15m, 2h, 1d or milliseconds)`);
  const unit = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 }[(match[2] ?? "ms") as "ms"];
  const value = Math.round(Number(match[1]) * unit);
  if (value <= 0) throw new Error(`"${text}" must be longer than zero`);
  return value;
}

/** Whether an expression fires at minute 0 of every hour (or every N hours): the herd that stagger spreads. */
export function isTopOfHour(expr: string): boolean {
  const fields = expr.trim().split(/\s+/);
  const [minute, hour] = fields.length === 6 ? [fields[1], fields[2]] : [fields[0], fields[1]];
  if (fields.length === 6 && fields[0] !== "0") return false;
  return minute === "0" && (hour === "*" || /^\*\/\d+$/.test(hour ?? ""));
}

/** A deterministic offset in [0, window) for a job, so its runs spread out but stay put across restarts. */
export function staggerFor(jobId: string, windowMs: number): number {
  if (windowMs <= 0) return 0;
  return createHash("sha256").update(jobId).digest().readUInt32BE(0) % windowMs;
}

/** Check a schedule; throws with what is wrong (an unknown time zone, a bad expression, a past `at`). */
export function validateSchedule(schedule: CronSchedule): void {
  if (schedule.kind === "cron") {
    if (schedule.tz) {
      try {
        new Intl.DateTimeFormat("en", { timeZone: schedule.tz });
      } catch {
        throw new Error(`unknown time zone "${schedule.tz}" (use an IANA name such as Europe/Berlin)`);
      }
    }
    try {
      new Cron(schedule.expr, { paused: true, ...(schedule.tz ? { timezone: schedule.tz } : {}) });
    } catch (error) {
      throw new Error(`invalid cron expression "${schedule.expr}": ${(error as Error).message}`);
    }
  } else if (schedule.kind === "at" && Number.isNaN(Date.parse(schedule.at))) {
    throw new Error(`"${schedule.at}" is not an ISO time (e.g. 2026-12-01T09:00 or 2026-12-01T09:00:00Z)`);
  }
}

/**
 * The first run strictly after `afterMs`, or undefined when there is none (an `at` in the past). Top-of-hour cron
 * expressions are shifted by the job's stagger unless the schedule sets `staggerMs` (0 turns it off).
 */
export function nextRunAt(schedule: CronSchedule, afterMs: number, jobId: string): number | undefined {
  switch (schedule.kind) {
    case "at": {
      const at = Date.parse(schedule.at);
      return at > afterMs ? at : undefined;
    }
    case "every": {
      const anchor = schedule.anchorMs ?? 0;
      if (afterMs < anchor) return anchor;
      return anchor + (Math.floor((afterMs - anchor) / schedule.everyMs) + 1) * schedule.everyMs;
    }
    case "cron": {
      const window = schedule.staggerMs ?? (isTopOfHour(schedule.expr) ? DEFAULT_STAGGER_MS : 0);
      const offset = staggerFor(jobId, window);
      const cron = new Cron(schedule.expr, { paused: true, ...(schedule.tz ? { timezone: schedule.tz } : {}) });
      // Look from before the offset, so a run whose staggered time is still ahead is not skipped.
      const next = cron.nextRun(new Date(afterMs - offset));
      return next ? next.getTime() + offset : undefined;
    }
  }
}
