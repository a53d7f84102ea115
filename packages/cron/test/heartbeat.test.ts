import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { HeartbeatEvent } from "@gateway/protocol";
import { afterEach, describe, expect, it } from "vitest";
import {
  type HeartbeatHost,
  type HeartbeatOptions,
  HeartbeatService,
  inActiveHours,
  isEffectivelyEmpty,
  stripHeartbeatToken,
} from "../src/index.js";

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

function setup(options: Partial<HeartbeatOptions> = {}) {
  const workspace = mkdtempSync(join(tmpdir(), "heartbeat-"));
  dirs.push(workspace);
  const clock = { now: Date.parse("2026-11-22T10:00:00Z") };
  const events: HeartbeatEvent[] = [];
  const delivered: string[] = [];
  const system: string[] = [];
  const prompts: string[] = [];
  const replies: string[] = [];
  let busy = false;
  const host: HeartbeatHost = {
    mainSessionKey: "agent:main:main",
    workspace,
    isBusy: () => busy,
    agentTurn: async (message) => {
      prompts.push(message);
      return { status: "ok", text: replies.shift() ?? "HEARTBEAT_OK" };
    },
    systemEvent: async (text) => {
      system.push(text);
    },
    deliver: async (target, text) => {
      delivered.push(`${typeof target === "string" ? target : target.channel}: ${text}`);
    },
    broadcast: (_event, payload) => events.push(payload),
  };
  const heartbeat = new HeartbeatService(host, { everyMs: 30 * 60_000, now: () => clock.now, ...options });
  return {
    heartbeat,
    clock,
    events,
    delivered,
    system,
    prompts,
    replies,
    workspace,
    setBusy: (value: boolean) => (busy = value),
  };
}

describe("heartbeat", () => {
  it("strips HEARTBEAT_OK at either end; an acknowledgement alone is not delivered", async () => {
    const { heartbeat, replies, delivered } = setup();
    replies.push(
      "HEARTBEAT_OK",
      "**HEARTBEAT_OK** all quiet.",
      "Your 3pm meeting moved to 4pm. HEARTBEAT_OK",
      "x".repeat(400) + " HEARTBEAT_OK",
      "",
    );
    expect(await heartbeat.runOnce()).toMatchObject({ status: "ok-token" });
    expect(await heartbeat.runOnce()).toMatchObject({ status: "ok-token", preview: "all quiet." });
    expect(await heartbeat.runOnce()).toMatchObject({ status: "ok-token", preview: "Your 3pm meeting moved to 4pm." });
    expect(await heartbeat.runOnce()).toMatchObject({ status: "sent" }); // longer than ackMaxChars: it needs attention
    expect(await heartbeat.runOnce()).toMatchObject({ status: "ok-empty" });
    expect(delivered).toEqual([`last: ${"x".repeat(400)}`]);
    expect(stripHeartbeatToken("Disk at 95%!")).toEqual({ text: "Disk at 95%!", hadToken: false });
  });

  it("a reply that needs attention goes to the target; HEARTBEAT.md is the checklist", async () => {
    const { heartbeat, replies, delivered, prompts, workspace } = setup({ target: { channel: "telegram", to: "42" } });
    writeFileSync(join(workspace, "HEARTBEAT.md"), "# Checklist\n- check the backup ran\n");
    replies.push("The backup did not run last night.");
    expect(await heartbeat.runOnce()).toMatchObject({
      status: "sent",
      to: "telegram:42",
      preview: "The backup did not run last night.",
    });
    expect(delivered).toEqual(["telegram: The backup did not run last night."]);
    expect(prompts[0]).toMatch(/reply exactly HEARTBEAT_OK[\s\S]*HEARTBEAT\.md:\n# Checklist\n- check the backup ran$/);
  });

  it("skips when HEARTBEAT.md is empty, the main session is busy, outside active hours, or turned off", async () => {
    const { heartbeat, workspace, prompts, setBusy, clock } = setup({
      activeHours: { start: "08:00", end: "22:00", tz: "Europe/Berlin" },
    });
    writeFileSync(join(workspace, "HEARTBEAT.md"), "# Heartbeat\n<!-- nothing yet -->\n\n");
    expect(await heartbeat.runOnce()).toMatchObject({ status: "skipped", reason: "empty-heartbeat-file" });
    writeFileSync(join(workspace, "HEARTBEAT.md"), "- look at the inbox\n");
    setBusy(true);
    expect(await heartbeat.runOnce()).toMatchObject({ status: "skipped", reason: "busy" });
    setBusy(false);
    clock.now = Date.parse("2026-11-22T22:30:00Z"); // 23:30 in Berlin
    expect(await heartbeat.runOnce()).toMatchObject({ status: "skipped", reason: "quiet-hours" });
    clock.now = Date.parse("2026-11-22T12:00:00Z");
    heartbeat.setEnabled(false);
    expect(await heartbeat.runOnce()).toMatchObject({ status: "skipped", reason: "disabled" });
    expect(prompts).toEqual([]);
    heartbeat.setEnabled(true);
    expect(await heartbeat.runOnce()).toMatchObject({ status: "ok-token" });
    expect(heartbeat.last()).toMatchObject({ status: "ok-token" });
    expect(inActiveHours(Date.parse("2026-11-22T01:00:00Z"), { start: "22:00", end: "06:00", tz: "UTC" })).toBe(true);
    expect(isEffectivelyEmpty("# Title\n\n- \n")).toBe(true);
  });

  it("the watchdog raises one alarm when heartbeats stop completing, and clears it when they resume", async () => {
    const { heartbeat, clock, events, system } = setup({ everyMs: 30 * 60_000 });
    await heartbeat.runOnce();
    clock.now += 59 * 60_000;
    heartbeat.checkWatchdog();
    expect(heartbeat.alarm).toBeUndefined();
    clock.now += 2 * 60_000; // 61 minutes of silence, threshold 60
    heartbeat.checkWatchdog();
    heartbeat.checkWatchdog();
    expect(heartbeat.alarm).toMatch(/no heartbeat completed in 61 min \(threshold 60 min\)/);
    expect(events.filter((event) => event.status === "missed")).toHaveLength(1);
    expect(system).toEqual([expect.stringMatching(/^⚠️ MISSED HEARTBEAT: no heartbeat completed in 61 min/)]);
    expect(heartbeat.last()).toMatchObject({ status: "missed" });
    await heartbeat.runOnce();
    expect(heartbeat.alarm).toBeUndefined();
    clock.now += 30 * 60_000;
    heartbeat.checkWatchdog();
    expect(events.filter((event) => event.status === "missed")).toHaveLength(1);
  });
});
