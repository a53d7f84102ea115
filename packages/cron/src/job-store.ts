import { mkdirSync } from "node:fs";
import { readdir, readFile, rename, rm, stat } from "node:fs/promises";
import { join } from "node:path";
import type { CronJob, CronPayload, CronRunLogEntry, CronSchedule } from "@gateway/protocol";
import {
  JsonLinesAppender,
  JsonStateFile,
  parseJsonLines,
  type StateFileProblem,
  writeFileAtomic,
} from "@gateway/state";
import { Type } from "@sinclair/typebox";
import type { CronStore, JobChange } from "./cron-store.js";

/** A job as stored (the protocol's CronJob, with its schedule and payload typed per kind). */
export type Job = Omit<CronJob, "schedule" | "payload"> & { schedule: CronSchedule; payload: CronPayload };

interface JobsFile {
  version: 1;
  jobs: Job[];
}

/** What jobs.json must hold to be used (fields a later version adds are kept). */
const JobsFileSchema = Type.Object({
  version: Type.Literal(1),
  jobs: Type.Array(
    Type.Object({
      id: Type.String({ minLength: 1 }),
      name: Type.String(),
      enabled: Type.Boolean(),
      schedule: Type.Object({ kind: Type.String() }),
      payload: Type.Object({ kind: Type.String() }),
      state: Type.Object({}),
    }),
  ),
});

/**
 * The record written before a run starts. A scheduled run names its due time (so a run cut short is caught up) and,
 * when it re-runs an interrupted one, that run's id; `by` is the instance that ran it (in a fleet).
 */
export interface StartedRecord {
  action: "started";
  ts: number;
  jobId: string;
  runId: string;
  dueAtMs?: number;
  retryOf?: string;
  by?: string;
}

/** A line of a job's run log: a run that started (written before it runs) or finished. */
export type RunRecord = StartedRecord | CronRunLogEntry;

/** A run that started and never finished. */
export type UnfinishedRun = Omit<StartedRecord, "action" | "jobId">;

/** Runs in `records` that started and never finished (the instance running them stopped mid-run). */
export function unfinishedRuns(records: readonly RunRecord[]): UnfinishedRun[] {
  const open = new Map<string, UnfinishedRun>();
  for (const record of records) {
    if (record.action === "started") {
      const { action: _action, jobId: _jobId, ...run } = record;
      open.set(record.runId, run);
    } else if (record.runId) open.delete(record.runId);
  }
  return [...open.values()];
}

/**
 * `cron/jobs.json` (written atomically; an unreadable file is kept aside, never overwritten) and one run log per job,
 * `cron/runs/<jobId>.jsonl`, appended line by line and trimmed to its newest half when it grows past `maxLogBytes`.
 */
export class JobStore implements CronStore {
  readonly directory: string;
  readonly jobsPath: string;
  readonly #runsDir: string;
  readonly #file: JsonStateFile<typeof JobsFileSchema>;
  readonly #logs = new JsonLinesAppender();

  constructor(
    stateDir: string,
    readonly maxLogBytes = 512 * 1024,
    options: { onProblem?: (problem: StateFileProblem) => void } = {},
  ) {
    this.directory = join(stateDir, "cron");
    this.jobsPath = join(this.directory, "jobs.json");
    this.#runsDir = join(this.directory, "runs");
    mkdirSync(this.#runsDir, { recursive: true, mode: 0o700 });
    this.#file = new JsonStateFile(this.jobsPath, {
      schema: JobsFileSchema,
      empty: () => ({ version: 1, jobs: [] }),
      pretty: true,
      ...(options.onProblem ? { onProblem: options.onProblem } : {}),
    });
  }

  get location(): string {
    return this.jobsPath;
  }

  /** Set when jobs.json could not be used at the last load: where it was moved, and why. */
  get problem(): StateFileProblem | undefined {
    return this.#file.problem;
  }

  /** The jobs on disk (an unusable file is moved aside, reported, and no jobs load). */
  load(): Job[] {
    return (this.#file.read() as JobsFile).jobs;
  }

  /** Write every job (one write at a time; the newest snapshot wins; a failure reaches the caller). */
  save(jobs: readonly Job[], _change?: JobChange): Promise<void> {
    return this.#file.write({ version: 1, jobs: structuredClone([...jobs]) });
  }

  #logPath(jobId: string): string {
    return join(this.#runsDir, `${encodeURIComponent(jobId)}.jsonl`);
  }

  /** Append one record to the job's run log; a failed write rejects with a StateError. */
  async append(record: RunRecord): Promise<void> {
    const path = this.#logPath(record.jobId);
    await this.#logs.append(path, record);
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
    this.#logs.forget(path);
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

  /**
   * The records of every run log, of current jobs and of removed ones (deleted one-shot jobs, archived logs), so
   * `cron.runs` with scope `all` keeps the history of jobs that no longer exist.
   */
  async allRecords(): Promise<RunRecord[]> {
    const names = await readdir(this.#runsDir).catch(() => [] as string[]);
    const records: RunRecord[] = [];
    for (const name of names) {
      if (!name.endsWith(".jsonl")) continue;
      const text = await readFile(join(this.#runsDir, name), "utf8").catch(() => "");
      for (const record of parseJsonLines<RunRecord>(text)) records.push(record);
    }
    return records;
  }

  /** Runs that started and never finished (the gateway stopped mid-run). */
  async unfinished(jobId: string): Promise<UnfinishedRun[]> {
    return unfinishedRuns(await this.records(jobId));
  }

  /** Remove a job's run log (the job was removed); kept as `<id>.removed-<ts>.jsonl`. */
  async archive(jobId: string): Promise<void> {
    const path = this.#logPath(jobId);
    await rename(path, path.replace(/\.jsonl$/, `.removed-${Date.now()}.jsonl`)).catch(() => rm(path, { force: true }));
  }
}
