import { randomUUID } from "node:crypto";
import type { CronAddParams, CronJobPatch } from "@gateway/protocol";
import { scheduleNext } from "./job-state.js";
import type { Job } from "./job-store.js";
import { validateJob } from "./job-validation.js";

/** The job `cron.add` asks for, validated and scheduled from `now`. */
export function newJob(params: CronAddParams, now: number): Job {
  validateJob(params);
  const job: Job = {
    id: randomUUID(),
    name: params.name,
    ...(params.description !== undefined ? { description: params.description } : {}),
    ...(params.agentId ? { agentId: params.agentId } : {}),
    enabled: params.enabled ?? true,
    ...(params.deleteAfterRun !== undefined ? { deleteAfterRun: params.deleteAfterRun } : {}),
    createdAtMs: now,
    updatedAtMs: now,
    schedule: params.schedule,
    sessionTarget: params.sessionTarget,
    wakeMode: params.wakeMode,
    payload: params.payload,
    ...(params.delivery ? { delivery: params.delivery } : {}),
    state: {},
  };
  scheduleNext(job, now);
  return job;
}

/**
 * The job as `cron.update`'s patch makes it, validated (a copy: `job` is unchanged). `null` removes a field; the
 * payload and delivery are merged (a payload of another kind replaces it); a new schedule or `enabled` reschedules.
 */
export function patchedJob(job: Job, patch: CronJobPatch, now: () => number): Job {
  const next = structuredClone(job) as Job & Record<string, unknown>;
  for (const [key, value] of Object.entries(patch)) {
    if (value === undefined || key === "payload" || key === "delivery") continue;
    if (value === null) delete next[key];
    else next[key] = value;
  }
  if (patch.payload) {
    const merged = patch.payload.kind === job.payload.kind ? { ...job.payload, ...patch.payload } : patch.payload;
    for (const [key, value] of Object.entries(merged))
      if (value === null) delete (merged as Record<string, unknown>)[key];
    next.payload = merged as Job["payload"];
  }
  if (patch.delivery) {
    const merged: Record<string, unknown> = { ...(job.delivery ?? { mode: "none" }), ...patch.delivery };
    for (const [key, value] of Object.entries(merged)) if (value === null) delete merged[key];
    next.delivery = merged as Job["delivery"];
  }
  validateJob(next as unknown as CronAddParams);
  next.updatedAtMs = now();
  if (patch.schedule || patch.enabled !== undefined) scheduleNext(next, now());
  if (!next.enabled) delete next.state.nextRunAtMs;
  return next;
}

/** Put `job` back as `previous` was (an edit that could not be saved), in place: runs in progress hold the object. */
export function restoreJob(job: Job, previous: Job): void {
  for (const key of Object.keys(job)) if (!(key in previous)) delete (job as Record<string, unknown>)[key];
  Object.assign(job, previous);
}
