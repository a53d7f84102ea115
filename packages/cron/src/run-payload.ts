import type { CronRunStatus } from "@gateway/protocol";
import type { CronHost } from "./cron-host.js";
import type { Job } from "./job-store.js";

/** How a job's payload ran: its status, the text it produced, and the session it ran in. */
export interface PayloadOutcome {
  status: CronRunStatus;
  error?: string | undefined;
  summary: string;
  sessionKey: string;
  sessionId?: string | undefined;
}

/**
 * Run the job's payload: a system event into the main session, or an agent turn (in the main session or the job's
 * own, `cron:<id>`) with the job's timeout or `defaultTimeoutMs`. A failure is an outcome, never a rejection.
 */
export async function runPayload(host: CronHost, job: Job, defaultTimeoutMs: number): Promise<PayloadOutcome> {
  const outcome: PayloadOutcome = { status: "ok", summary: "", sessionKey: host.mainSessionKey };
  try {
    if (job.payload.kind === "systemEvent") {
      outcome.summary = job.payload.text;
      await host.systemEvent(job.payload.text, { sessionKey: outcome.sessionKey, wake: job.wakeMode });
    } else {
      if (job.sessionTarget === "isolated") outcome.sessionKey = `cron:${job.id}`;
      const timeoutMs =
        job.payload.timeoutSeconds !== undefined && job.payload.timeoutSeconds > 0
          ? job.payload.timeoutSeconds * 1000
          : defaultTimeoutMs;
      const result = await host.agentTurn(job.payload.message, { sessionKey: outcome.sessionKey, timeoutMs });
      outcome.summary = result.text;
      outcome.sessionId = result.sessionId;
      if (result.status !== "ok") {
        outcome.status = "error";
        outcome.error =
          result.error ?? `the agent turn ${result.status === "aborted" ? "was aborted (timeout?)" : "failed"}`;
      }
    }
  } catch (failure) {
    outcome.status = "error";
    outcome.error = (failure as Error).message;
  }
  return outcome;
}
