import {
  type CronService,
  type CronStore,
  type HeartbeatService,
  type Job,
  type JobChange,
  JobStore,
  type RunRecord,
  type RunRequest,
  type StartedRecord,
} from "@gateway/cron";
import type { RedisCronStore } from "@gateway/fleet";
import { unavailable } from "@gateway/protocol";
import type { GatewayServer } from "@gateway/server";
import type { FleetMembership } from "./membership.js";

/** Cron and the heartbeat of an instance in a fleet. */
export interface FleetCron {
  /** The fleet's job store (Redis) for the CronService. */
  readonly store: CronStore;
  /** Serve the shared jobs; run the scheduler and the heartbeat while this instance holds the fleet's cron lease. */
  start(cron: CronService, heartbeat: HeartbeatService, options: { runJobs: boolean }): Promise<void>;
  stop(): Promise<void>;
}

/** The lease whose holder runs the fleet's scheduler and heartbeat (shown in `gateway status --fleet`). */
const LEASE = "cron";
/** How often each instance takes in job changes it may have missed (pub/sub drops messages while reconnecting). */
const SYNC_MS = 2_000;

/**
 * Cron across a fleet: the jobs and run logs live in Redis, so `cron.*` on any instance reads and edits the same
 * jobs; one instance at a time — the holder of the `cron` lease — runs the scheduler and the heartbeat, and each
 * scheduled run first claims its due time in Redis (a belt: a due time starts once even if two instances ever
 * believed they held the lease). When the holder dies, another takes the lease within `leaseMs`, reports the run it
 * cut short as interrupted and catches up by `cron.catchUp`. Jobs in this instance's `cron/jobs.json` (from before
 * the fleet) are copied into Redis once.
 */
export function attachFleetCron(
  server: GatewayServer,
  fleet: FleetMembership,
  options: { stateDir: string; maxRecords?: number },
): FleetCron {
  const log = server.logger;
  const shared: Promise<RedisCronStore> = fleet.parts().then(async (parts) => {
    const { RedisCronStore } = await import("@gateway/fleet");
    return new RedisCronStore(parts.redis, {
      keyPrefix: parts.keyPrefix,
      ...(options.maxRecords ? { maxRecords: options.maxRecords } : {}),
      onProblem: (message) => log.warn(message),
    });
  });
  const store = deferredStore(shared);
  const controller = new AbortController();
  let running: Promise<void> | undefined;
  let stopWatching: (() => void) | undefined;
  let timer: NodeJS.Timeout | undefined;

  async function lead(cron: CronService, heartbeat: HeartbeatService, runJobs: boolean): Promise<void> {
    const parts = await fleet.parts();
    const redisStore = await shared;
    const signal = controller.signal;
    const aborted = new Promise<string>((resolve) =>
      signal.addEventListener("abort", () => resolve("stopping"), { once: true }),
    );
    while (!signal.aborted) {
      const lease = await parts.leases.acquire(LEASE, signal, (error) =>
        log.debug({ err: error }, "fleet: cron lease"),
      );
      if (!lease) break;
      redisStore.fence({ key: `${parts.keyPrefix}lease:${LEASE}`, value: `${parts.id}|${lease.fence}` });
      try {
        if (runJobs) await cron.start();
        heartbeat.start();
        log.info(`fleet: this instance runs cron and the heartbeat for the fleet (lease fence ${lease.fence})`);
        void parts.registry.beat().catch(() => {});
      } catch (error) {
        log.warn(`fleet: could not start the scheduler (${(error as Error).message}); another instance may take it`);
        await lease.release();
        await new Promise((resolve) => setTimeout(resolve, parts.leaseMs).unref());
      }
      const reason = await Promise.race([lease.lost, aborted]);
      heartbeat.stop();
      cron.stop();
      redisStore.fence(undefined);
      if (signal.aborted) {
        await lease.release();
        break;
      }
      log.warn(
        `fleet: cron and the heartbeat stopped on this instance (${reason}); the instance holding the lease runs them`,
      );
      await cron.follow().catch((error: Error) => log.warn(`fleet: cron jobs could not be read: ${error.message}`));
    }
  }

  return {
    store,
    async start(cron, heartbeat, { runJobs }) {
      const redisStore = await shared;
      const local = new JobStore(options.stateDir).load();
      const copied = await redisStore.importOnce(local).catch((error: Error) => {
        log.warn(`fleet: the jobs of cron/jobs.json could not be copied to Redis yet (${error.message}); next start`);
        return [];
      });
      if (copied.length > 0)
        log.info(`fleet: ${copied.length} cron job(s) of cron/jobs.json copied to the fleet's store in Redis`);
      await cron.follow().catch((error: Error) => log.warn(`fleet: cron jobs could not be read: ${error.message}`));
      const sync = () => void cron.sync().catch((error: Error) => log.debug({ err: error }, "fleet: cron sync"));
      // Not awaited: an unreachable Redis must not hold up the gateway's start (the periodic sync covers it meanwhile).
      void redisStore
        .watch(sync)
        .then((stop) => {
          if (controller.signal.aborted) stop();
          else stopWatching = stop;
        })
        .catch((error: Error) => log.warn(`fleet: cron changes are not pushed (${error.message}); checked every 2 s`));
      timer = setInterval(sync, SYNC_MS);
      timer.unref();
      running = lead(cron, heartbeat, runJobs).catch((error: Error) =>
        log.error({ err: error }, "fleet: the cron lease loop ended"),
      );
    },
    async stop() {
      controller.abort();
      clearInterval(timer);
      stopWatching?.();
      await running;
    },
  };
}

/**
 * A store whose Redis connection comes once the fleet service has started (the CronService is built before). A Redis
 * failure reaches a client as UNAVAILABLE (retryable) saying what is wrong, not as an internal error.
 */
function deferredStore(shared: Promise<RedisCronStore>): CronStore {
  let location = "redis (the fleet's store)";
  void shared.then((store) => {
    location = store.location;
  });
  const call =
    <A extends unknown[], R>(use: (store: RedisCronStore, ...args: A) => Promise<R>) =>
    async (...args: A): Promise<R> => {
      try {
        return await use(await shared, ...args);
      } catch (error) {
        throw unavailable(
          `the fleet's cron store in Redis cannot be used (${(error as Error).message}): cron jobs and runs are read and changed again once Redis answers`,
        );
      }
    };
  return {
    get location() {
      return location;
    },
    load: call((store) => store.load()),
    save: call((store, all: readonly Job[], change: JobChange) => store.save(all, change)),
    append: call((store, record: RunRecord) => store.append(record)),
    records: call((store, jobId: string) => store.records(jobId)),
    allRecords: call((store) => store.allRecords()),
    archive: call((store, jobId: string) => store.archive(jobId)),
    claimStart: call((store, record: StartedRecord & { dueAtMs: number }) => store.claimStart(record)),
    changed: call((store) => store.changed()),
    requestRun: call((store, request: RunRequest) => store.requestRun(request)),
    takeRunRequests: call((store) => store.takeRunRequests()),
  };
}
