import { describe, expect, it } from "vitest";
import { FleetEventDedupe, MemoryEventDedupe } from "./dedupe.js";

describe("MemoryEventDedupe", () => {
  it("claims a key once within its time to live, again after it", () => {
    let now = 0;
    const dedupe = new MemoryEventDedupe({ ttlMs: 1_000, now: () => now });
    expect(dedupe.claim("Ev1")).toBe(true);
    expect(dedupe.claim("Ev1")).toBe(false);
    now = 1_000;
    expect(dedupe.claim("Ev1")).toBe(true);
  });
});

describe("FleetEventDedupe", () => {
  it("asks the fleet once per key, drops a local repeat without asking, and follows the fleet's answer", async () => {
    const asked: string[] = [];
    const taken = new Set(["Ev-elsewhere"]);
    const dedupe = new FleetEventDedupe(async (key) => {
      asked.push(key);
      return !taken.has(key);
    });
    expect(await dedupe.claim("Ev-here")).toBe(true);
    expect(await dedupe.claim("Ev-here")).toBe(false);
    expect(await dedupe.claim("Ev-elsewhere")).toBe(false);
    expect(asked).toEqual(["Ev-here", "Ev-elsewhere"]);
  });

  it("processes the event when the fleet store cannot answer (a duplicate beats a lost message)", async () => {
    const dedupe = new FleetEventDedupe(() => Promise.reject(new Error("redis down")));
    expect(await dedupe.claim("Ev2")).toBe(true);
  });
});
