import type { CronHost } from "./cron-host.js";
import type { CronStore } from "./cron-store.js";

/** Options of the scheduler. */
export interface CronServiceOptions {
  stateDir: string;
  host: CronHost;
  /** Where jobs and run logs live. @default the file store in `<stateDir>/cron` */
  store?: CronStore;
  /** This instance's name in a fleet, written into each run's start (an interrupted run says where it ran). */
  instanceId?: string;
  /** The clock (tests pass their own). @default Date.now */
  now?: () => number;
  /** @default 1 */
  maxConcurrentRuns?: number;
  /** Runs missed while the gateway was down: run `once`, `skip` them, or run `all` (at most `catchUpMax`). @default once */
  catchUp?: "once" | "skip" | "all";
  /** @default 10 */
  catchUpMax?: number;
  /** Timeout of an agent turn without its own. @default 600000 */
  defaultTimeoutMs?: number;
  webhook?: { token?: string; attempts?: number; backoffMs?: number; timeoutMs?: number };
  /** Run log size before trimming. @default 524288 */
  maxLogBytes?: number;
  fetch?: typeof fetch;
  /** Told of each finished run's status (for /metrics). */
  onRunFinished?: (status: string) => void;
  /**
   * The longest the scheduler sleeps before looking at the clock again. Timers count elapsed time, schedules are in
   * wall-clock time: after the clock jumps (NTP, a resumed laptop or VM), jobs run within this much. @default 60000
   */
  recheckMs?: number;
}
