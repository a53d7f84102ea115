import type { CronRunLogEntry, CronRunStatus } from "@gateway/protocol";
import type { CronServiceOptions } from "./cron-service-options.js";
import type { Job } from "./job-store.js";

/** A run that ended, as its delivery tells of it. */
export interface FinishedRun {
  runId: string;
  summary: string;
  status: CronRunStatus;
  startedAt: number;
  finishedAt: number;
}

/** The delivery fields of a run log entry. */
export type DeliveryResult = Pick<CronRunLogEntry, "delivered" | "deliveryStatus" | "deliveryError">;

/**
 * Deliver a run's result as the job asks: announced to a channel peer (or the last one spoken to), or POSTed to a
 * webhook. A failure is logged and recorded in the result, never thrown: the run itself succeeded.
 */
export async function deliver(
  options: Pick<CronServiceOptions, "host" | "webhook" | "fetch">,
  job: Job,
  run: FinishedRun,
): Promise<DeliveryResult> {
  const delivery = job.delivery;
  if (!delivery || delivery.mode === "none") return { deliveryStatus: "not-requested" };
  try {
    if (delivery.mode === "announce") {
      if (!options.host.deliver) throw new Error("no channels are configured to announce to");
      const target =
        !delivery.channel || delivery.channel === "last"
          ? "last"
          : {
              channel: delivery.channel,
              ...(delivery.to ? { to: delivery.to } : {}),
              ...(delivery.accountId ? { accountId: delivery.accountId } : {}),
              ...(delivery.threadId !== undefined ? { threadId: String(delivery.threadId) } : {}),
            };
      await options.host.deliver(target, run.summary);
    } else await postWebhook(options, delivery.to!, job, run);
    return { delivered: true, deliveryStatus: "delivered" };
  } catch (error) {
    options.host.log?.warn(`cron: ${job.name}: delivery failed: ${(error as Error).message}`);
    return { delivered: false, deliveryStatus: "not-delivered", deliveryError: (error as Error).message };
  }
}

/** POST the finished run as JSON (bearer token when configured); 5xx, 429 and network errors are retried. */
async function postWebhook(
  options: Pick<CronServiceOptions, "webhook" | "fetch">,
  url: string,
  job: Job,
  run: FinishedRun,
): Promise<void> {
  const settings = options.webhook ?? {};
  const attempts = settings.attempts ?? 4;
  const doFetch = options.fetch ?? fetch;
  const body = JSON.stringify({
    jobId: job.id,
    jobName: job.name,
    runId: run.runId,
    status: run.status,
    summary: run.summary,
    runAtMs: run.startedAt,
    finishedAtMs: run.finishedAt,
    durationMs: run.finishedAt - run.startedAt,
  });
  let lastError = "";
  for (let attempt = 0; attempt < attempts; attempt++) {
    if (attempt > 0)
      await new Promise((resolve) => setTimeout(resolve, (settings.backoffMs ?? 1_000) * 2 ** (attempt - 1)));
    try {
      const response = await doFetch(url, {
        method: "POST",
        headers: {
          "content-type": "application/json",
          ...(settings.token ? { authorization: `Bearer ${settings.token}` } : {}),
        },
        body,
        signal: AbortSignal.timeout(settings.timeoutMs ?? 10_000),
      });
      if (response.ok) return;
      lastError = `${url} answered ${response.status}`;
      if (response.status < 500 && response.status !== 429) break;
    } catch (error) {
      lastError = `${url}: ${(error as Error).message}`;
    }
  }
  throw new Error(`webhook failed after retries: ${lastError}`);
}
