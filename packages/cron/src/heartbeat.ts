import { readFile } from "node:fs/promises";
import { join } from "node:path";
import type { HeartbeatEvent } from "@gateway/protocol";
import type { CronHost, DeliveryTarget } from "./cron-host.js";

/** The reply that means "nothing needs attention". */
export const HEARTBEAT_TOKEN = "HEARTBEAT_OK";

export const DEFAULT_HEARTBEAT_PROMPT = `Heartbeat: a periodic check while nobody is talking to you. Work through the checklist below (HEARTBEAT.md) if there is one, and any system events above. Do not repeat tasks already done. If nothing needs attention, reply exactly ${HEARTBEAT_TOKEN}.`;

/** What the heartbeat needs from the gateway (the cron host, plus the agent's workspace and busy state). */
export interface HeartbeatHost
  extends Pick<CronHost, "mainSessionKey" | "systemEvent" | "agentTurn" | "deliver" | "log"> {
  /** Where HEARTBEAT.md is read from. */
  readonly workspace: string;
  isBusy(sessionKey: string): boolean;
  broadcast(event: "heartbeat", payload: HeartbeatEvent): void;
}

/** Options of the heartbeat. */
export interface HeartbeatOptions {
  /** 0 disables. */
  everyMs: number;
  activeHours?: { start: string; end: string; tz?: string };
  /** @default "last" */
  target?: "last" | "none" | DeliveryTarget;
  prompt?: string;
  /** A reply with the token and at most this much else is an acknowledgement, not delivered. @default 300 */
  ackMaxChars?: number;
  /** @default true, threshold twice the interval */
  watchdog?: { enabled?: boolean; thresholdMs?: number };
  /** @default 600000 */
  timeoutMs?: number;
  now?: () => number;
}

/** Minutes since midnight of `ms` in `tz`. */
function minutesIn(ms: number, tz?: string): number {
  const parts = new Intl.DateTimeFormat("en-GB", {
    hour: "2-digit",
    minute: "2-digit",
    hourCycle: "h23",
    ...(tz ? { timeZone: tz } : {}),
  }).formatToParts(new Date(ms));
  const value = (type: string) => Number(parts.find((part) => part.type === type)?.value ?? 0);
  return value("hour") * 60 + value("minute");
}

const toMinutes = (hhmm: string) => Number(hhmm.slice(0, 2)) * 60 + Number(hhmm.slice(3, 5));

/** Whether `ms` falls in the active hours (an overnight window such as 22:00–06:00 works too). */
export function inActiveHours(ms: number, hours: HeartbeatOptions["activeHours"]): boolean {
  if (!hours) return true;
  const now = minutesIn(ms, hours.tz);
  const start = toMinutes(hours.start);
  const end = toMinutes(hours.end);
  return start <= end ? now >= start && now < end : now >= start || now < end;
}

/** A reply without the token at its start or end, and whether it had it. */
export function stripHeartbeatToken(reply: string): { text: string; hadToken: boolean } {
  let text = reply.trim();
  let hadToken = false;
  const token = new RegExp(`^[*_\`\\s]*${HEARTBEAT_TOKEN}[*_\`.!\\s]*|[*_\`\\s]*${HEARTBEAT_TOKEN}[*_\`.!\\s]*$`, "g");
  text = text.replace(token, () => {
    hadToken = true;
    return "";
  });
  return { text: text.trim(), hadToken };
}

/** Whether a HEARTBEAT.md has nothing to do: only blank lines, headings and comments. */
export function isEffectivelyEmpty(markdown: string): boolean {
  return markdown
    .replace(/<!--[\s\S]*?-->/g, "")
    .split("\n")
    .every((line) => /^\s*(#.*)?$/.test(line) || /^\s*[-*]\s*$/.test(line));
}

/**
 * The heartbeat: every `everyMs` (inside the active hours, not while the main session is busy), one agent turn in the
 * main session with HEARTBEAT.md as its checklist — skipped when that file exists but is empty. `HEARTBEAT_OK` at the
 * start or end is stripped; a reply that is only an acknowledgement is not delivered; anything else goes to the
 * target. The watchdog raises one alarm when no heartbeat completed within the threshold, and clears it when they
 * resume.
 */
export class HeartbeatService {
  #options: HeartbeatOptions;
  #enabled = true;
  #last: HeartbeatEvent | null = null;
  #lastAliveAt: number;
  #alarm: string | undefined;
  #timer: NodeJS.Timeout | undefined;
  #watchdogTimer: NodeJS.Timeout | undefined;
  #running: Promise<HeartbeatEvent> | undefined;
  /** start() was called and stop() not since (with `everyMs` 0 no timer runs, yet a config edit may start one). */
  #started = false;
  readonly #now: () => number;

  constructor(
    private readonly host: HeartbeatHost,
    options: HeartbeatOptions,
  ) {
    this.#options = options;
    this.#now = options.now ?? Date.now;
    this.#lastAliveAt = this.#now();
  }

  get enabled(): boolean {
    return this.#enabled && this.#options.everyMs > 0;
  }

  /** The last heartbeat (or the watchdog's `missed`), null before the first. */
  last(): HeartbeatEvent | null {
    return this.#last;
  }

  /** The watchdog's alarm while it is raised (for `health`). */
  get alarm(): string | undefined {
    return this.#alarm;
  }

  get thresholdMs(): number {
    return this.#options.watchdog?.thresholdMs ?? this.#options.everyMs * 2;
  }

  start(): void {
    this.#clear();
    this.#started = true;
    if (this.#options.everyMs <= 0) return;
    this.#lastAliveAt = this.#now();
    this.#scheduleNext(this.#options.everyMs);
    if (this.#options.watchdog?.enabled !== false) {
      this.#watchdogTimer = setInterval(
        () => this.checkWatchdog(),
        Math.max(1_000, Math.min(this.thresholdMs / 4, 60_000)),
      );
      this.#watchdogTimer.unref();
    }
  }

  stop(): void {
    this.#started = false;
    this.#clear();
  }

  #clear(): void {
    if (this.#timer) clearTimeout(this.#timer);
    if (this.#watchdogTimer) clearInterval(this.#watchdogTimer);
    this.#timer = undefined;
    this.#watchdogTimer = undefined;
  }

  /** New settings (a config edit): the next heartbeat follows them. */
  configure(options: HeartbeatOptions): void {
    this.#options = { ...options, ...(this.#options.now ? { now: this.#options.now } : {}) };
    // Only where it was started: in a fleet, the instance not running the heartbeat keeps it off.
    if (this.#started) this.start();
  }

  /** `set-heartbeats`. */
  setEnabled(enabled: boolean): void {
    this.#enabled = enabled;
  }

  #scheduleNext(delayMs: number): void {
    this.#timer = setTimeout(() => {
      void this.runOnce("interval").finally(() => {
        if (this.#timer) this.#scheduleNext(this.#options.everyMs);
      });
    }, delayMs);
    this.#timer.unref();
  }

  /** One heartbeat now (the timer's; tests call it with a fake clock). Concurrent calls share the run. */
  runOnce(reason = "interval"): Promise<HeartbeatEvent> {
    this.#running ??= this.#run(reason).finally(() => {
      this.#running = undefined;
    });
    return this.#running;
  }

  async #run(reason: string): Promise<HeartbeatEvent> {
    const started = this.#now();
    const host = this.host;
    const finish = (event: Omit<HeartbeatEvent, "ts">): HeartbeatEvent => {
      const full: HeartbeatEvent = { ts: this.#now(), ...event };
      this.#last = full;
      if (full.status !== "failed") this.#alive();
      // A failing heartbeat is said out loud (status shows it too), never only in an event nobody watches.
      else host.log?.warn(`heartbeat failed: ${full.reason ?? "unknown reason"}`);
      host.broadcast("heartbeat", full);
      return full;
    };
    if (!this.enabled) return finish({ status: "skipped", reason: "disabled" });
    if (!inActiveHours(started, this.#options.activeHours)) return finish({ status: "skipped", reason: "quiet-hours" });
    if (host.isBusy(host.mainSessionKey)) return finish({ status: "skipped", reason: "busy" });
    let checklist: string | undefined;
    try {
      checklist = await readFile(join(host.workspace, "HEARTBEAT.md"), "utf8");
    } catch {
      checklist = undefined;
    }
    if (checklist !== undefined && isEffectivelyEmpty(checklist))
      return finish({ status: "skipped", reason: "empty-heartbeat-file" });
    const prompt = [
      this.#options.prompt ?? DEFAULT_HEARTBEAT_PROMPT,
      ...(checklist ? ["", "HEARTBEAT.md:", checklist.trim()] : []),
    ].join("\n");
    const result = await host
      .agentTurn(prompt, { sessionKey: host.mainSessionKey, timeoutMs: this.#options.timeoutMs ?? 600_000 })
      .catch((error: Error) => ({ status: "error" as const, text: "", error: error.message }));
    const durationMs = Math.max(0, this.#now() - started);
    if (result.status !== "ok")
      return finish({ status: "failed", reason: result.error ?? `the run ${result.status}`, durationMs });
    const { text, hadToken } = stripHeartbeatToken(result.text);
    const preview = text.slice(0, 200);
    if (!text) return finish({ status: hadToken ? "ok-token" : "ok-empty", durationMs, reason });
    if (hadToken && text.length <= (this.#options.ackMaxChars ?? 300))
      return finish({ status: "ok-token", durationMs, preview, reason });
    const target = this.#options.target ?? "last";
    if (target === "none")
      return finish({ status: "sent", durationMs, preview, reason: "target none: kept in the session" });
    try {
      if (!host.deliver) throw new Error("no channels are configured to deliver to");
      await host.deliver(target, text);
      return finish({
        status: "sent",
        durationMs,
        preview,
        ...(target !== "last" ? { to: `${target.channel}:${target.to ?? ""}` } : {}),
      });
    } catch (error) {
      return finish({ status: "failed", durationMs, preview, reason: `delivery: ${(error as Error).message}` });
    }
  }

  #alive(): void {
    this.#lastAliveAt = this.#now();
    if (this.#alarm) {
      this.#alarm = undefined;
      this.host.log?.info("heartbeat: resumed; the watchdog alarm is cleared");
    }
  }

  /** The watchdog: one alarm when no heartbeat completed within the threshold (timer's; tests call it). */
  checkWatchdog(): void {
    if (!this.enabled || this.#alarm || this.#options.watchdog?.enabled === false) return;
    const silentMs = this.#now() - this.#lastAliveAt;
    if (silentMs <= this.thresholdMs) return;
    const minutes = Math.round(silentMs / 60_000);
    this.#alarm = `no heartbeat completed in ${minutes} min (threshold ${Math.round(this.thresholdMs / 60_000)} min): the scheduler or the model is stuck — check \`gateway logs\``;
    this.host.log?.warn(`heartbeat watchdog: ${this.#alarm}`);
    const event: HeartbeatEvent = { ts: this.#now(), status: "missed", reason: this.#alarm };
    this.#last = event;
    this.host.broadcast("heartbeat", event);
    void this.host
      .systemEvent(`⚠️ MISSED HEARTBEAT: ${this.#alarm}.`, {
        sessionKey: this.host.mainSessionKey,
        wake: "next-heartbeat",
      })
      .catch(() => {});
  }
}
