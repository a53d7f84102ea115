import { mkdirSync, readFileSync, renameSync } from "node:fs";
import { appendFile, readFile, rename, rm, stat } from "node:fs/promises";
import { join } from "node:path";
import type { CronJob, CronPayload, CronRunLogEntry, CronSchedule } from "@gateway/protocol";
import { parseJsonLines, writeFileAtomic } from "@gateway/state";

/** A job as stored (the protocol's CronJob, with its schedule and payload typed per kind). */
export type Job = Omit<CronJob, "schedule" | "payload"> & { schedule: CronSchedule; payload: CronPayload };

interface JobsFile {
  version: 1;
  jobs: Job[];
}

/** A line of a job's run log: a run that started (written before it runs) or finished. */
export type RunRecord = { action: "started"; ts: number; jobId: string; runId: string } | CronRunLogEntry;

/**
 * `cron/jobs.json` (written atomically; an unreadable file is kept aside, never overwritten) and one run log per job,
 * `cron/runs/<jobId>.jsonl`, appended line by line and trimmed to its newest half when it grows past `maxLogBytes`.
 */
export class JobStore {
  readonly directory: string;
  readonly jobsPath: string;
  readonly #runsDir: string;
  #writes: Promise<unknown> = Promise.resolve();

  constructor(
    stateDir: string,
    readonly maxLogBytes = 512 * 1024,
  ) {
    this.directory = join(stateDir, "cron");
    this.jobsPath = join(this.directory, "jobs.json");
    this.#runsDir = join(this.directory, "runs");
    mkdirSync(this.#runsDir, { recursive: true, mode: 0o700 });
  }

  /** The jobs on disk. */
  load(): Job[] {
    let text: string;
    try {
      text = readFileSync(this.jobsPath, "utf8");
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === "ENOENT") return [];
      throw error;
    }
    try {
      const parsed = JSON.parse(text) as JobsFile;
      if (parsed.version === 1 && Array.isArray(parsed.jobs)) return parsed.jobs;
    } catch {
      // unreadable: below
    }
    renameSync(this.jobsPath, `${this.jobsPath}.unreadable-${Date.now()}`);
    return [];
  }

  /** Write every job (serialised: the last write wins, none interleave). */
  save(jobs: readonly Job[]): Promise<void> {
    const snapshot = JSON.stringify({ version: 1, jobs: [...jobs] } satisfies JobsFile, null, 2);
    const write = this.#writes.then(() => writeFileAtomic(this.jobsPath, snapshot));
    this.#writes = write.catch(() => undefined);
    return write;
  }

  #logPath(jobId: string): string {
    return join(this.#runsDir, `${encodeURIComponent(jobId)}.jsonl`);
  }

  /** Append one record to the job's run log. */
  async append(record: RunRecord): Promise<void> {
    const path = this.#logPath(record.jobId);
    await appendFile(path, `${JSON.stringify(record)}\n`, { mode: 0o600 });
    const size = await stat(path).then(
      (info) => info.size,
      () => 0,
    );
    if (size > this.maxLogBytes) await this.#trim(path);
  }

  async #trim(path: string): Promise<void> {
    const lines = (await readFile(path, "utf8")).split("\n").filter(Boolean);
    const kept = lines.slice(Math.floor(lines.length / 2));
    await writeFileAtomic(path, `${kept.join("\n")}\n`);
  }

  /** The job's records, oldest first (a torn last line from a crash is skipped). */
  async records(jobId: string): Promise<RunRecord[]> {
    let text: string;
    try {
      text = await readFile(this.#logPath(jobId), "utf8");
    } catch {
      return [];
    }
    return parseJsonLines<RunRecord>(text);
  }

  /** Runs that started and never finished (the gateway stopped mid-run). */
  async unfinished(jobId: string): Promise<Array<{ runId: string; ts: number }>> {
    const open = new Map<string, number>();
    for (const record of await this.records(jobId)) {
      if (record.action === "started") open.set(record.runId, record.ts);
      else if (record.runId) open.delete(record.runId);
    }
    return [...open].map(([runId, ts]) => ({ runId, ts }));
  }

  /** Remove a job's run log (the job was removed); kept as `<id>.removed-<ts>.jsonl`. */
  async archive(jobId: string): Promise<void> {
    const path = this.#logPath(jobId);
    await rename(path, path.replace(/\.jsonl$/, `.removed-${Date.now()}.jsonl`)).catch(() => rm(path, { force: true }));
  }
}
