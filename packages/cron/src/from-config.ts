import type { CronConfigSection, HeartbeatConfigSection } from "./config.js";
import type { CronHost } from "./cron-host.js";
import type { CronServiceOptions } from "./cron-service-options.js";
import type { HeartbeatOptions } from "./heartbeat.js";
import { parseDuration } from "./schedule.js";

/** The heartbeat's interval when `heartbeat.every` is not set. */
export const DEFAULT_HEARTBEAT_EVERY_MS = 30 * 60_000;

/** What the scheduler's options are for a `cron` section (the rest — state dir, host — comes from the gateway). */
export function cronOptionsFromConfig(
  section: CronConfigSection = {},
): Omit<CronServiceOptions, "stateDir" | "host" | "now" | "fetch"> {
  return {
    ...(section.maxConcurrentRuns ? { maxConcurrentRuns: section.maxConcurrentRuns } : {}),
    ...(section.catchUp ? { catchUp: section.catchUp } : {}),
    ...(section.catchUpMax ? { catchUpMax: section.catchUpMax } : {}),
    ...(section.defaultTimeoutSeconds ? { defaultTimeoutMs: section.defaultTimeoutSeconds * 1000 } : {}),
    ...(section.runLogMaxBytes ? { maxLogBytes: section.runLogMaxBytes } : {}),
    webhook: { ...(section.webhookToken ? { token: section.webhookToken } : {}) },
  };
}

/**
 * The heartbeat's options for a `heartbeat` section. It needs a model: without one (the echo agent) it would only
 * repeat its own prompt, so it stays off. `every` defaults to 30 minutes; "0" turns it off.
 */
export function heartbeatOptionsFromConfig(
  section: HeartbeatConfigSection = {},
  agent: { modelConfigured: boolean; runTimeoutMs: number },
): HeartbeatOptions {
  const everyMs = !agent.modelConfigured
    ? 0
    : section.every === undefined
      ? DEFAULT_HEARTBEAT_EVERY_MS
      : section.every.trim() === "0"
        ? 0
        : parseDuration(section.every);
  return {
    everyMs,
    ...(section.activeHours ? { activeHours: section.activeHours } : {}),
    ...(section.target ? { target: section.target } : {}),
    ...(section.prompt ? { prompt: section.prompt } : {}),
    ...(section.ackMaxChars !== undefined ? { ackMaxChars: section.ackMaxChars } : {}),
    ...(section.watchdog ? { watchdog: section.watchdog } : {}),
    timeoutMs: agent.runTimeoutMs,
  };
}

/** What a cron job's agent turn needs of the agent. */
export interface CronAgent {
  /** Queue a message as a follow-up in a session; `done` settles when its run ended. */
  send(
    sessionKey: string,
    message: string,
    options: { mode: "followup" },
  ): Promise<{ runId: string; done: Promise<{ stopReason: string; text: string; error?: string }> }>;
  /** Abort a run of a session. */
  abort(sessionKey: string, runId: string): void;
  /** The session's current id (for the run log), if it has one. */
  sessionId(sessionKey: string): string | undefined;
}

/**
 * A cron job's agent turn: a follow-up in the job's session, aborted when it runs past the job's timeout, its end
 * mapped to the run log's status.
 */
export function agentTurnRunner(agent: CronAgent): CronHost["agentTurn"] {
  return async (message, { sessionKey, timeoutMs }) => {
    const run = await agent.send(sessionKey, message, { mode: "followup" });
    const timer = setTimeout(() => agent.abort(sessionKey, run.runId), timeoutMs);
    const outcome = await run.done.finally(() => clearTimeout(timer));
    const sessionId = agent.sessionId(sessionKey);
    return {
      status: outcome.stopReason === "error" ? "error" : outcome.stopReason === "aborted" ? "aborted" : "ok",
      text: outcome.text,
      runId: run.runId,
      ...(outcome.error ? { error: outcome.error } : {}),
      ...(sessionId ? { sessionId } : {}),
    };
  };
}
