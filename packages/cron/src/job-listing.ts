import { createHash } from "node:crypto";
import type { CronListParams, CronListResult } from "@gateway/protocol";
import type { Job } from "./job-store.js";
import { page } from "./list-page.js";

/** `cron.list`: the jobs asked for, soonest due first, one page of them. */
export function listJobs(all: readonly Job[], params: CronListParams = {}): CronListResult {
  let jobs = all.filter((job) => params.includeDisabled || job.enabled);
  if (params.query) {
    const query = params.query.toLowerCase();
    jobs = jobs.filter((job) => job.name.toLowerCase().includes(query) || job.id.includes(query));
  }
  jobs = [...jobs].sort((a, b) => (a.state.nextRunAtMs ?? Infinity) - (b.state.nextRunAtMs ?? Infinity));
  const { items, ...rest } = page(jobs, params.offset, params.limit ?? 100);
  return {
    jobs: items,
    ...rest,
    nextOffset: rest.hasMore ? rest.offset + items.length : null,
    snapshotRevision: revision(all),
  };
}

/** The soonest due time of an enabled job, or null when none is due. */
export function nextWakeAt(jobs: readonly Job[]): number | null {
  return jobs
    .filter((job) => job.enabled && job.state.nextRunAtMs !== undefined)
    .reduce<number | null>(
      (min, job) => (min === null ? job.state.nextRunAtMs! : Math.min(min, job.state.nextRunAtMs!)),
      null,
    );
}

/** A name for the whole inventory as it is now: the same while no job changes, different once one does. */
function revision(jobs: readonly Job[]): string {
  return createHash("sha256").update(JSON.stringify(jobs)).digest("base64url").slice(0, 16);
}
