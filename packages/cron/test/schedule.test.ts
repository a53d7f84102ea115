import { describe, expect, it } from "vitest";
import {
  DEFAULT_STAGGER_MS,
  isTopOfHour,
  nextRunAt,
  parseDuration,
  staggerFor,
  validateSchedule,
} from "../src/index.js";

const at = (iso: string) => Date.parse(iso);
const iso = (ms: number | undefined) => (ms === undefined ? undefined : new Date(ms).toISOString());

describe("schedules", () => {
  it("at: once, then never", () => {
    const schedule = { kind: "at" as const, at: "2026-12-01T09:00:00Z" };
    expect(iso(nextRunAt(schedule, at("2026-11-30T00:00:00Z"), "j"))).toBe("2026-12-01T09:00:00.000Z");
    expect(nextRunAt(schedule, at("2026-12-01T09:00:00Z"), "j")).toBeUndefined();
  });

  it("every: fixed steps from the anchor, never drifting", () => {
    const schedule = { kind: "every" as const, everyMs: 15 * 60_000, anchorMs: at("2026-01-01T00:05:00Z") };
    expect(iso(nextRunAt(schedule, at("2026-01-01T00:00:00Z"), "j"))).toBe("2026-01-01T00:05:00.000Z");
    expect(iso(nextRunAt(schedule, at("2026-01-01T00:05:00Z"), "j"))).toBe("2026-01-01T00:20:00.000Z");
    expect(iso(nextRunAt(schedule, at("2026-01-01T10:21:07Z"), "j"))).toBe("2026-01-01T10:35:00.000Z");
  });

  it("cron: weekdays at 09:00 in Europe/Berlin (winter: 08:00Z, summer: 07:00Z)", () => {
    const schedule = { kind: "cron" as const, expr: "0 9 * * 1-5", tz: "Europe/Berlin" };
    expect(iso(nextRunAt(schedule, at("2026-11-20T10:00:00Z"), "j"))).toBe("2026-11-23T08:00:00.000Z"); // Fri → Mon
    expect(iso(nextRunAt(schedule, at("2026-06-01T00:00:00Z"), "j"))).toBe("2026-06-01T07:00:00.000Z");
    // 6 fields: seconds
    expect(iso(nextRunAt({ kind: "cron", expr: "*/10 * * * * *" }, at("2026-01-01T00:00:03Z"), "j"))).toBe(
      "2026-01-01T00:00:10.000Z",
    );
  });

  it("cron across DST: a skipped 02:30 runs at 03:30 that day; a repeated 02:30 runs once", () => {
    const schedule = { kind: "cron" as const, expr: "30 2 * * *", tz: "Europe/Berlin" };
    // 2026-03-29: clocks jump from 02:00 to 03:00
    expect(iso(nextRunAt(schedule, at("2026-03-28T12:00:00Z"), "j"))).toBe("2026-03-29T01:30:00.000Z");
    expect(iso(nextRunAt(schedule, at("2026-03-29T12:00:00Z"), "j"))).toBe("2026-03-30T00:30:00.000Z");
    // 2026-10-25: 02:00–03:00 happens twice
    const first = nextRunAt(schedule, at("2026-10-24T12:00:00Z"), "j");
    expect(iso(first)).toBe("2026-10-25T00:30:00.000Z");
    expect(iso(nextRunAt(schedule, first!, "j"))).toBe("2026-10-26T01:30:00.000Z");
  });

  it("staggers top-of-hour expressions by a stable per-job offset; staggerMs 0 opts out", () => {
    expect(isTopOfHour("0 * * * *")).toBe(true);
    expect(isTopOfHour("0 */2 * * *")).toBe(true);
    expect(isTopOfHour("0 9 * * *")).toBe(false);
    expect(isTopOfHour("15 * * * *")).toBe(false);
    const hourly = { kind: "cron" as const, expr: "0 * * * *", tz: "UTC" };
    const offset = staggerFor("job-a", DEFAULT_STAGGER_MS);
    expect(offset).toBe(staggerFor("job-a", DEFAULT_STAGGER_MS));
    expect(offset).not.toBe(staggerFor("job-b", DEFAULT_STAGGER_MS));
    expect(nextRunAt(hourly, at("2026-01-01T00:30:00Z"), "job-a")).toBe(at("2026-01-01T01:00:00Z") + offset);
    // a staggered time still ahead in the current hour is not skipped
    expect(nextRunAt(hourly, at("2026-01-01T01:00:00Z"), "job-a")).toBe(at("2026-01-01T01:00:00Z") + offset);
    expect(nextRunAt({ ...hourly, staggerMs: 0 }, at("2026-01-01T00:30:00Z"), "job-a")).toBe(
      at("2026-01-01T01:00:00Z"),
    );
  });

  it("refuses what cannot work, saying why", () => {
    expect(() => validateSchedule({ kind: "cron", expr: "0 9 * * 1-5", tz: "Mars/Olympus" })).toThrow(
      /unknown time zone "Mars\/Olympus"/,
    );
    expect(() => validateSchedule({ kind: "cron", expr: "99 * * * *" })).toThrow(/invalid cron expression/);
    expect(() => validateSchedule({ kind: "at", at: "tomorrow" })).toThrow(/not an ISO time/);
    expect(parseDuration("15m")).toBe(900_000);
    expect(parseDuration("1.5h")).toBe(5_400_000);
    expect(() => parseDuration("soon")).toThrow(/not a duration/);
  });
});
