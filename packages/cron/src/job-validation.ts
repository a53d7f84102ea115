import type { CronAddParams } from "@gateway/protocol";
import { invalidRequest } from "@gateway/protocol";
import { validateSchedule } from "./schedule.js";

/** Refuse a job that cannot run as written (bad schedule, payload in the wrong session, webhook without a URL). */
export function validateJob(job: Pick<CronAddParams, "schedule" | "delivery" | "payload" | "sessionTarget">): void {
  try {
    validateSchedule(job.schedule);
  } catch (error) {
    throw invalidRequest((error as Error).message);
  }
  if (job.payload.kind === "systemEvent" && job.sessionTarget !== "main")
    throw invalidRequest('a systemEvent job runs in the main session: set sessionTarget to "main"');
  if (job.delivery?.mode === "webhook" && !/^https?:\/\/\S+$/.test(job.delivery.to ?? ""))
    throw invalidRequest("a webhook delivery needs delivery.to: an http(s) URL");
}
