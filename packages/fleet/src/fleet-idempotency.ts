import { createHash } from "node:crypto";
import { Type } from "@sinclair/typebox";
import { TypeCompiler } from "@sinclair/typebox/compiler";
import type { Redis } from "ioredis";

// Give a claim up only while it is still this instance's running claim (a result recorded meanwhile stays).
const RELEASE = `
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0`;

const Stored = Type.Union([
  Type.Object({ state: Type.Literal("running"), by: Type.String() }),
  Type.Object({ state: Type.Literal("done"), result: Type.Unknown() }),
]);
const checkStored = TypeCompiler.Compile(Stored);

/** How long a running claim holds when its instance dies before recording a result (a retry then runs again). */
const RUNNING_TTL_MS = 60_000;

/** Options of fleet-wide idempotency keys. */
export interface FleetIdempotencyOptions {
  /** Keys live under `<keyPrefix>idempotency:<sha256 of method and key>`. */
  keyPrefix: string;
  /** This instance's id (written into its running claims). */
  self: string;
  onProblem?: (message: string) => void;
}

/** What another instance recorded for a key (the shape `@gateway/server`'s SharedIdempotency answers). */
export type FleetClaim = { state: "claimed" } | { state: "running" } | { state: "done"; result: unknown };

/**
 * Idempotency keys shared by a fleet: the first instance to `SET NX` a key runs the call and records its result;
 * every other instance answers a duplicate with that result (or waits while it runs). A failed call gives its claim
 * up, so a retry runs again — as on one instance.
 */
export class FleetIdempotency {
  readonly #running: string;

  constructor(
    private readonly redis: Redis,
    readonly options: FleetIdempotencyOptions,
  ) {
    this.#running = JSON.stringify({ state: "running", by: options.self });
  }

  #key(id: string): string {
    return `${this.options.keyPrefix}idempotency:${createHash("sha256").update(id).digest("hex")}`;
  }

  async claim(id: string, ttlMs: number): Promise<FleetClaim> {
    const key = this.#key(id);
    for (let attempt = 0; attempt < 3; attempt++) {
      const claimed = await this.redis.set(key, this.#running, "PX", Math.min(ttlMs, RUNNING_TTL_MS), "NX");
      if (claimed === "OK") return { state: "claimed" };
      const stored = await this.redis.get(key);
      if (stored === null) continue; // expired in between: claim again
      let value: unknown;
      try {
        value = JSON.parse(stored);
      } catch {
        value = undefined;
      }
      if (!checkStored.Check(value)) {
        throw new Error(`${key} in Redis is not an idempotency record (delete it, or use another fleet.keyPrefix)`);
      }
      return value.state === "done" ? { state: "done", result: value.result } : { state: "running" };
    }
    return { state: "running" };
  }

  async settle(id: string, result: unknown, ttlMs: number): Promise<void> {
    await this.redis.set(this.#key(id), JSON.stringify({ state: "done", result: result ?? null }), "PX", ttlMs);
  }

  async release(id: string): Promise<void> {
    await this.redis.eval(RELEASE, 1, this.#key(id), this.#running);
  }

  onProblem(message: string): void {
    this.options.onProblem?.(message);
  }
}
