import type { CronRunLogEntry, CronRunsParams, CronRunsResult } from "@gateway/protocol";
import type { CronStore } from "./cron-store.js";
import { page } from "./list-page.js";

/** `cron.runs`: finished runs of one job, of the jobs known now (`jobIds`), or of every run log; newest first. */
export async function runHistory(
  store: CronStore,
  jobIds: readonly string[],
  params: CronRunsParams = {},
): Promise<CronRunsResult> {
  const id = params.id ?? params.jobId;
  const records =
    id && params.scope !== "all"
      ? await store.records(id)
      : params.scope === "all"
        ? await store.allRecords()
        : (await Promise.all(jobIds.map((jobId) => store.records(jobId)))).flat();
  const entries = records.filter((record): record is CronRunLogEntry => record.action === "finished");
  const wanted =
    params.status && params.status !== "all" ? entries.filter((entry) => entry.status === params.status) : entries;
  wanted.sort((a, b) => b.ts - a.ts);
  const { items, ...rest } = page(wanted, params.offset, params.limit ?? 50);
  return { entries: items, ...rest };
}
