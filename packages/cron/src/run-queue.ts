import type { Job } from "./job-store.js";

/** The due time a scheduled run stands for, and the interrupted run it re-runs. */
export interface Due {
  dueAtMs?: number;
  retryOf?: string;
}

/** A run waiting for its turn. */
interface Queued {
  id: string;
  runId: string;
  due?: Due;
}

/** What a RunQueue runs and whom it tells. */
export interface RunQueueOptions {
  /** How many runs go on at once. */
  maxConcurrent: number;
  /** The job of a waiting run as it is now (undefined: removed meanwhile, the run is dropped). */
  find(id: string): Job | undefined;
  /** Run the job; must not reject. */
  execute(job: Job, runId: string, due: Due | undefined): Promise<void>;
  /** A run ended and the next waiting ones started. */
  ended(): void;
}

/** The runs waiting and going: at most `maxConcurrent` at once, in the order asked, never one job twice at once. */
export class RunQueue {
  readonly #options: RunQueueOptions;
  /** The ids of the jobs running. */
  readonly #running = new Set<string>();
  /** The run ids going on in this process (not interrupted, whatever the run log says). */
  readonly #runningRuns = new Set<string>();
  readonly #waiting: Queued[] = [];
  readonly #idle = new Set<() => void>();

  constructor(options: RunQueueOptions) {
    this.#options = options;
  }

  /** How many runs go on now. */
  get running(): number {
    return this.#running.size;
  }

  /** Whether a run of the job goes on now. */
  isRunning(jobId: string): boolean {
    return this.#running.has(jobId);
  }

  /** Whether the run with this id goes on in this process. */
  isRunningRun(runId: string): boolean {
    return this.#runningRuns.has(runId);
  }

  /** Whether a run of the job goes on or waits. */
  has(jobId: string): boolean {
    return this.#running.has(jobId) || this.#waiting.some((entry) => entry.id === jobId);
  }

  /** Queue a run of the job and start what may start. */
  enqueue(id: string, runId: string, due?: Due): void {
    this.#waiting.push({ id, runId, ...(due ? { due } : {}) });
    this.#pump();
  }

  /** Resolves when no run is going or waiting. */
  idle(): Promise<void> {
    if (this.#running.size === 0 && this.#waiting.length === 0) return Promise.resolve();
    return new Promise((resolve) => this.#idle.add(resolve));
  }

  #pump(): void {
    while (this.#running.size < this.#options.maxConcurrent) {
      // The first waiting run whose job is not already running (a job never runs twice at once).
      const index = this.#waiting.findIndex((entry) => !this.#running.has(entry.id));
      if (index < 0) break;
      const [{ id, runId, due }] = this.#waiting.splice(index, 1) as [Queued];
      const job = this.#options.find(id);
      if (!job) continue;
      this.#running.add(job.id);
      this.#runningRuns.add(runId);
      void this.#options.execute(job, runId, due).finally(() => {
        this.#running.delete(job.id);
        this.#runningRuns.delete(runId);
        this.#pump();
        this.#options.ended();
        if (this.#running.size === 0 && this.#waiting.length === 0) {
          for (const resolve of this.#idle) resolve();
          this.#idle.clear();
        }
      });
    }
  }
}
