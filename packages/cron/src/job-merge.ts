import type { Job } from "./job-store.js";

/**
 * The jobs as the store has them (`fresh`), keeping the objects of jobs already known (runs in progress hold them)
 * and the running mark of a job that runs here. With `keepState` (the scheduler: the only one that writes a job's
 * state), a job whose definition did not change keeps the state in memory.
 */
export function mergeJobs(
  known: readonly Job[],
  fresh: readonly Job[],
  options: { keepState: boolean; isRunning(jobId: string): boolean },
): Job[] {
  const byId = new Map(known.map((job) => [job.id, job]));
  return fresh.map((next) => {
    const current = byId.get(next.id);
    if (!current) return next;
    const runningAtMs = options.isRunning(next.id) ? current.state.runningAtMs : undefined;
    const state = options.keepState && current.updatedAtMs === next.updatedAtMs ? current.state : next.state;
    for (const key of Object.keys(current)) delete (current as Record<string, unknown>)[key];
    Object.assign(current, next, { state: runningAtMs === undefined ? state : { ...state, runningAtMs } });
    return current;
  });
}
