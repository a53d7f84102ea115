import type { Redis } from "ioredis";
import { Lease } from "./lease.js";

/** A lease this instance holds through a LeaseManager. */
export interface HeldLease {
  readonly name: string;
  readonly fence: number;
  /** Whether it is surely still ours; check it before acting on behalf of the lease. */
  held(): boolean;
  /** Resolves with the reason once the lease is no longer ours (taken over, or not renewed in time). */
  readonly lost: Promise<string>;
  /** Give it up now (another instance may take it at once). */
  release(): Promise<void>;
}

/** Options of a LeaseManager. */
export interface LeaseManagerOptions {
  /** This instance's id: the owner written into each lease. */
  owner: string;
  /** Leases live under `<keyPrefix>lease:<name>`. */
  keyPrefix: string;
  /** A lease's life without a renewal; renewed every third of it. */
  ttlMs: number;
  /** How often a waiting instance tries a lease someone else holds. @default min(500, ttlMs / 4) */
  retryMs?: number;
}

/**
 * The leases of one instance: `acquire(name)` waits until the lease is free and takes it, then keeps it renewed.
 * A lease that could not be renewed within its ttl (Redis unreachable, the process paused past it) counts as lost
 * the moment its time is up, whatever Redis says later: its holder must stop, since another instance may own it.
 */
export class LeaseManager {
  readonly #held = new Map<string, { lease: Lease; stop(reason: string): void }>();
  #closed = false;

  constructor(
    private readonly redis: Redis,
    readonly options: LeaseManagerOptions,
  ) {}

  /** The leases held now, with their fencing tokens. */
  owned(): Array<{ name: string; fence: number }> {
    return [...this.#held].map(([name, { lease }]) => ({ name, fence: lease.fence ?? 0 }));
  }

  /**
   * Take the lease `name`, waiting while another instance holds it. Resolves undefined when `signal` aborts (or the
   * manager closes) first. Redis errors while waiting are retried.
   */
  async acquire(
    name: string,
    signal: AbortSignal,
    onWaitError?: (error: Error) => void,
  ): Promise<HeldLease | undefined> {
    const lease = this.#lease(name);
    const retryMs = this.options.retryMs ?? Math.min(500, Math.floor(this.options.ttlMs / 4));
    for (;;) {
      if (signal.aborted || this.#closed) return undefined;
      const fence = await lease.tryAcquire().catch((error: Error) => {
        onWaitError?.(error);
        return undefined;
      });
      if (fence !== undefined) {
        if (signal.aborted || this.#closed) {
          await lease.release().catch(() => {});
          return undefined;
        }
        return this.#keep(name, lease, fence);
      }
      await abortableDelay(retryMs, signal);
    }
  }

  /** Take the lease `name` if it is free now (one attempt); undefined when another instance holds it. */
  async tryAcquire(name: string): Promise<HeldLease | undefined> {
    const lease = this.#lease(name);
    const fence = await lease.tryAcquire();
    if (fence === undefined) return undefined;
    if (this.#closed) {
      await lease.release().catch(() => {});
      return undefined;
    }
    return this.#keep(name, lease, fence);
  }

  /** The Redis key of the lease `name`. */
  key(name: string): string {
    return `${this.options.keyPrefix}lease:${name}`;
  }

  #lease(name: string): Lease {
    const existing = this.#held.get(name);
    if (existing?.lease.held()) throw new Error(`lease ${name} is already held by this instance`);
    // Run out by the clock (Redis was away) before the renewal tick noticed: it is lost, and may be taken again.
    existing?.stop(
      `the lease was not renewed within ${this.options.ttlMs} ms (Redis unreachable or this process paused)`,
    );
    return new Lease(this.redis, { key: this.key(name), owner: this.options.owner, ttlMs: this.options.ttlMs });
  }

  #keep(name: string, lease: Lease, fence: number): HeldLease {
    let resolveLost!: (reason: string) => void;
    const lost = new Promise<string>((resolve) => {
      resolveLost = resolve;
    });
    let renewing = false;
    let done = false;
    const stop = (reason: string) => {
      if (done) return;
      done = true;
      clearInterval(timer);
      if (this.#held.get(name)?.lease === lease) this.#held.delete(name);
      resolveLost(reason);
    };
    const tick = () => {
      if (!lease.held()) {
        stop(`the lease was not renewed within ${this.options.ttlMs} ms (Redis unreachable or this process paused)`);
        return;
      }
      if (renewing) return;
      renewing = true;
      lease
        .renew()
        .then((renewed) => {
          if (!renewed) stop("another instance holds the lease now");
        })
        .catch(() => {
          // Redis unreachable: the next tick decides by the lease's remaining time.
        })
        .finally(() => {
          renewing = false;
        });
    };
    const timer = setInterval(tick, Math.max(50, Math.floor(this.options.ttlMs / 3)));
    timer.unref();
    this.#held.set(name, { lease, stop });
    return {
      name,
      fence,
      held: () => !done && lease.held(),
      lost,
      release: async () => {
        stop("released");
        await lease.release().catch(() => {});
      },
    };
  }

  /** Release every lease (a clean shutdown hands them over at once). */
  async close(): Promise<void> {
    this.#closed = true;
    const leases = [...this.#held.values()];
    for (const { stop } of leases) stop("the instance is stopping");
    await Promise.all(leases.map(({ lease }) => lease.release().catch(() => {})));
  }
}

function abortableDelay(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      signal.removeEventListener("abort", done);
      resolve();
    }
    signal.addEventListener("abort", done, { once: true });
  });
}
