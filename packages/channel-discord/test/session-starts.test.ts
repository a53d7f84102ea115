import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { SessionStartGuard, type SessionStartLimit } from "../src/index.js";

const directories: string[] = [];
const guards: SessionStartGuard[] = [];
afterEach(async () => {
  for (const opened of guards.splice(0)) await opened.flush();
  for (const directory of directories.splice(0)) rmSync(directory, { recursive: true, force: true });
});

/** A guard on a fake clock, with Discord's answer to GET /gateway/bot scripted. */
async function guard(limit: Partial<SessionStartLimit> = {}, path?: string) {
  const clock = { now: 1_000_000 };
  const directory = mkdtempSync(join(tmpdir(), "discord-guard-"));
  directories.push(directory);
  const fetched: number[] = [];
  const answer: SessionStartLimit = {
    total: 1000,
    remaining: 1000,
    resetAfterMs: 86_400_000,
    maxConcurrency: 1,
    ...limit,
  };
  const instance = await SessionStartGuard.open({
    path: path ?? join(directory, "ledger.json"),
    now: () => clock.now,
    random: () => 0.5,
    fetchLimit: async () => {
      fetched.push(clock.now);
      return answer;
    },
  });
  instance.noteLimit(answer);
  guards.push(instance);
  return { guard: instance, clock, fetched, answer, path: path ?? join(directory, "ledger.json") };
}

describe("the session start guard", () => {
  it("the first IDENTIFY goes at once; the next waits Discord's 5 s", async () => {
    const { guard: subject, clock } = await guard();
    expect(await subject.delayBeforeIdentify()).toEqual({ delayMs: 0, reason: undefined });
    subject.recordIdentify();
    subject.markStable();
    clock.now += 1_000;
    expect(await subject.delayBeforeIdentify()).toEqual({ delayMs: 4_000, reason: "spacing" });
    expect(subject.spacingDelay()).toBe(4_000);
    clock.now += 4_000;
    expect(subject.spacingDelay()).toBe(0);
    expect((await subject.delayBeforeIdentify()).delayMs).toBe(0);
  });

  it("IDENTIFYs that never hold a session back off: 5 s, 10 s, 20 s … up to 10 min; a stable session resets that", async () => {
    const { guard: subject, clock } = await guard();
    const waits: number[] = [];
    for (let index = 0; index < 9; index++) {
      const { delayMs } = await subject.delayBeforeIdentify();
      waits.push(delayMs);
      clock.now += delayMs;
      subject.recordIdentify();
    }
    expect(waits).toEqual([0, 5_000, 10_000, 20_000, 40_000, 80_000, 160_000, 320_000, 600_000]);
    subject.markStable();
    clock.now += 1_000;
    expect(await subject.delayBeforeIdentify()).toEqual({ delayMs: 4_000, reason: "spacing" });
  });

  it("below half of the budget, IDENTIFYs are spread over the time left until Discord resets it", async () => {
    const { guard: subject, clock } = await guard({ total: 1000, remaining: 400, resetAfterMs: 3_600_000 });
    subject.recordIdentify();
    subject.markStable();
    clock.now += 1_000;
    // 399 left, 20 kept in reserve, 3,599 s to the reset: one IDENTIFY every 3599000 / 379 ms after the last.
    expect(await subject.delayBeforeIdentify()).toEqual({
      delayMs: Math.ceil(3_599_000 / 379 - 1_000),
      reason: "budget",
    });
  });

  it("nearly exhausted: asks Discord for the true count, then waits for the reset instead of burning the token", async () => {
    const { guard: subject, clock, fetched, answer } = await guard({ total: 10, remaining: 4, resetAfterMs: 600_000 });
    subject.recordIdentify();
    subject.markStable();
    answer.remaining = 3;
    answer.resetAfterMs = 590_000;
    clock.now += 10_000;
    const delay = await subject.delayBeforeIdentify();
    expect(fetched).toEqual([clock.now]);
    expect(delay).toEqual({ delayMs: 591_000, reason: "exhausted" });
    expect(subject.estimate).toMatchObject({ total: 10, remaining: 3 });
  });

  it("the ledger is on disk: a guard opened again (a restarted account or process) remembers the IDENTIFYs", async () => {
    const first = await guard();
    first.guard.recordIdentify();
    await first.guard.flush();
    expect(JSON.parse(readFileSync(first.path, "utf8")).identifies).toEqual([first.clock.now]);
    const second = await guard({}, first.path);
    expect(second.guard.identifiesToday).toBe(1);
    second.clock.now += 2_000;
    expect((await second.guard.delayBeforeIdentify()).delayMs).toBeGreaterThanOrEqual(3_000);
    second.clock.now += 86_400_000;
    expect(second.guard.identifiesToday).toBe(0);
  });

  it("a missing or corrupt ledger starts empty", async () => {
    const { path } = await guard();
    const { writeFileSync } = await import("node:fs");
    writeFileSync(path, "{not json");
    const reopened = await guard({}, path);
    expect(reopened.guard.identifiesToday).toBe(0);
    expect((await reopened.guard.delayBeforeIdentify()).delayMs).toBe(0);
  });
});
