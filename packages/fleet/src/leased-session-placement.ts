import type { ForwardedEvent, ForwardedRun, ForwardedSend, RunOutcome, SessionPlacement } from "@gateway/agent";
import { SESSION_MOVED } from "@gateway/agent";
import { ErrorCodes, GatewayError, ProtocolError } from "@gateway/protocol";
import { type Static, Type } from "@sinclair/typebox";
import type { Redis } from "ioredis";
import { type FleetRpc, FleetRpcError } from "./fleet-rpc.js";
import { Lease } from "./lease.js";
import type { HeldLease, LeaseManager } from "./lease-manager.js";

const Origin = Type.Object({
  channel: Type.String(),
  accountId: Type.Optional(Type.String()),
  peer: Type.Optional(Type.String()),
  threadId: Type.Optional(Type.String()),
});
const SendParams = Type.Object({
  sessionKey: Type.String({ minLength: 1 }),
  message: Type.String(),
  mode: Type.Optional(Type.Union(["steer", "followup", "collect", "interrupt"].map((mode) => Type.Literal(mode)))),
  origin: Type.Optional(Origin),
  idempotencyKey: Type.Optional(Type.String()),
});
const Ack = Type.Object({
  runId: Type.String({ minLength: 1 }),
  status: Type.Union([Type.Literal("started"), Type.Literal("queued")]),
  startedAt: Type.Number(),
});
const Outcome = Type.Object({
  runId: Type.String(),
  stopReason: Type.String(),
  text: Type.String(),
  error: Type.Optional(Type.String()),
  usage: Type.Optional(Type.Object({ inputTokens: Type.Number(), outputTokens: Type.Number() })),
});
const WaitParams = Type.Object({ runId: Type.String({ minLength: 1 }) });
const WaitResult = Type.Union([Outcome, Type.Object({ missing: Type.Literal(true) })]);
const AbortParams = Type.Object({ sessionKey: Type.String({ minLength: 1 }), runId: Type.Optional(Type.String()) });
const EventParams = Type.Object({
  sessionKey: Type.String({ minLength: 1 }),
  text: Type.String(),
  wake: Type.Optional(Type.Union([Type.Literal("now"), Type.Literal("next-heartbeat")])),
  eventIds: Type.Optional(Type.Array(Type.String())),
});

/** What a forwarded request does on the instance that runs the session. */
export interface LocalSessions {
  send(
    request: ForwardedSend,
  ): Promise<{ runId: string; status: "started" | "queued"; startedAt: number; done: Promise<RunOutcome> }>;
  abort(sessionKey: string, runId?: string): Promise<string[]>;
  event(request: ForwardedEvent): Promise<void>;
}

/** Options of a LeasedSessionPlacement. */
export interface LeasedSessionPlacementOptions {
  /** This instance's id (the lease owner and RPC id). */
  id: string;
  agentId: string;
  leaseMs: number;
  /** How long a session stays with this instance after its last run, so its next turn runs here too. @default 30000 */
  idleMs?: number;
  /** Longest run (a forwarded run's outcome is awaited that long). */
  runTimeoutMs: number;
  local: LocalSessions;
  /** Whether the session has a run going or queued here. */
  busy(sessionKey: string): boolean;
  /** The session's lease was lost while held (another instance may run it now): stop its run here. */
  onLost(sessionKey: string, reason: string): void;
}

interface Held {
  lease: HeldLease;
  idle?: NodeJS.Timeout;
}

/** How long a finished forwarded run's outcome is kept for the caller's wait (it asks right after the ack). */
const OUTCOME_KEPT_MS = 60_000;

/**
 * Sessions placed by lease (`session:<agentId>:<key>`, with a fencing token): the instance that takes a session's
 * lease runs its turns, keeps it while busy and for `idleMs` after; the others forward `send`/`abort`/system events
 * to it over the fleet RPC and await its outcome. When the owner dies, a waiting caller's run ends as an error with
 * `ownerLost` within the RPC's alive time, and the next claim takes the lease once it runs out.
 */
export class LeasedSessionPlacement implements SessionPlacement {
  readonly #held = new Map<string, Held>();
  /** The token of each session's lease this instance holds or held last (a stale one makes its appends refused). */
  readonly #fences = new Map<string, number>();
  readonly #outcomes = new Map<string, Promise<RunOutcome>>();
  readonly #claims = new Map<string, Promise<{ here: true } | { here: false; owner: string }>>();
  readonly #idleMs: number;

  constructor(
    private readonly redis: Redis,
    private readonly leases: LeaseManager,
    private readonly rpc: FleetRpc,
    readonly options: LeasedSessionPlacementOptions,
  ) {
    this.#idleMs = options.idleMs ?? 30_000;
    rpc.serve("session.send", (params) => this.#serveSend(params as Static<typeof SendParams>), { params: SendParams });
    rpc.serve(
      "session.wait",
      async (params) => (await this.#outcomes.get((params as Static<typeof WaitParams>).runId)) ?? { missing: true },
      { params: WaitParams },
    );
    rpc.serve(
      "session.abort",
      (params) => {
        const { sessionKey, runId } = params as Static<typeof AbortParams>;
        return options.local.abort(sessionKey, runId);
      },
      { params: AbortParams },
    );
    rpc.serve("session.event", (params) => options.local.event(params as ForwardedEvent), { params: EventParams });
  }

  #name(sessionKey: string): string {
    return `session:${this.options.agentId}:${sessionKey}`;
  }

  /** The fencing token appends to the session carry from this instance. */
  fence(sessionKey: string): number | undefined {
    return this.#fences.get(sessionKey);
  }

  /** The sessions this instance runs now. */
  owned(): string[] {
    return [...this.#held.keys()];
  }

  async #serveSend(request: Static<typeof SendParams>): Promise<Static<typeof Ack>> {
    const run = await this.options.local.send(request as ForwardedSend);
    this.#outcomes.set(run.runId, run.done);
    void run.done.finally(() => setTimeout(() => this.#outcomes.delete(run.runId), OUTCOME_KEPT_MS).unref());
    return { runId: run.runId, status: run.status, startedAt: run.startedAt };
  }

  claim(sessionKey: string): Promise<{ here: true } | { here: false; owner: string }> {
    // One claim per session at a time on this instance: the others wait for its answer.
    const pending = this.#claims.get(sessionKey);
    if (pending) return pending;
    const claim = this.#claim(sessionKey).finally(() => this.#claims.delete(sessionKey));
    this.#claims.set(sessionKey, claim);
    return claim;
  }

  async #claim(sessionKey: string): Promise<{ here: true } | { here: false; owner: string }> {
    const held = this.#held.get(sessionKey);
    if (held?.lease.held()) {
      clearTimeout(held.idle);
      held.idle = undefined;
      return { here: true };
    }
    if (held) this.#held.delete(sessionKey);
    const name = this.#name(sessionKey);
    for (let attempt = 0; attempt < 3; attempt++) {
      const lease = await this.leases.tryAcquire(name).catch((error: Error) => {
        throw new ProtocolError(
          ErrorCodes.UNAVAILABLE,
          `cannot reach Redis to run session ${sessionKey} (${error.message}); try again when it is back`,
          { retryable: true },
        );
      });
      if (lease) {
        this.#take(sessionKey, lease);
        return { here: true };
      }
      const holder = await Lease.holder(this.redis, this.leases.key(name));
      if (!holder) continue; // released just now
      // Held under this id by an earlier run of this process (a restart): it cannot be renewed, only outlived.
      if (holder.owner === this.options.id) await this.#waitFree(sessionKey);
      else return { here: false, owner: holder.owner };
    }
    throw new ProtocolError(ErrorCodes.UNAVAILABLE, `session ${sessionKey} keeps changing hands; send again`, {
      retryable: true,
    });
  }

  #take(sessionKey: string, lease: HeldLease): void {
    const held: Held = { lease };
    this.#held.set(sessionKey, held);
    this.#fences.set(sessionKey, lease.fence);
    void lease.lost.then((reason) => {
      if (this.#held.get(sessionKey) !== held) return;
      this.#held.delete(sessionKey);
      clearTimeout(held.idle);
      if (reason !== "released") this.options.onLost(sessionKey, reason);
    });
  }

  idle(sessionKey: string): void {
    const held = this.#held.get(sessionKey);
    if (!held) return;
    clearTimeout(held.idle);
    held.idle = setTimeout(() => {
      held.idle = undefined;
      // Busy again without a claim (a reset right before a run): kept; its end says idle again.
      if (this.#held.get(sessionKey) !== held || this.options.busy(sessionKey)) return;
      this.#held.delete(sessionKey);
      this.#fences.delete(sessionKey);
      void held.lease.release();
    }, this.#idleMs);
    held.idle.unref();
  }

  async send(owner: string, request: ForwardedSend): Promise<ForwardedRun> {
    let ack: Static<typeof Ack>;
    try {
      ack = (await this.rpc.call(owner, "session.send", request, { timeoutMs: 15_000, result: Ack })) as Static<
        typeof Ack
      >;
    } catch (error) {
      throw await this.#failure(owner, request.sessionKey, error);
    }
    return { ...ack, done: this.#outcome(owner, ack.runId) };
  }

  async #outcome(owner: string, runId: string): Promise<RunOutcome & { ownerLost?: boolean }> {
    const lost = (why: string) => ({
      runId,
      stopReason: "error" as const,
      text: "",
      error: `instance ${owner}, which ran this turn, ${why}; the transcript keeps what it wrote — send the message again`,
      ownerLost: true,
    });
    try {
      const result = (await this.rpc.call(
        owner,
        "session.wait",
        { runId },
        {
          timeoutMs: this.options.runTimeoutMs + 10_000,
          result: WaitResult,
        },
      )) as Static<typeof WaitResult>;
      if ("missing" in result) return lost("no longer knows the run (it restarted)");
      return result as RunOutcome;
    } catch (error) {
      if (error instanceof FleetRpcError && error.kind === "remote")
        return { runId, stopReason: "error", text: "", error: error.message };
      return lost(error instanceof FleetRpcError && error.kind === "timeout" ? "did not answer in time" : "stopped");
    }
  }

  async abort(owner: string, sessionKey: string, runId?: string): Promise<string[]> {
    try {
      return (await this.rpc.call(
        owner,
        "session.abort",
        { sessionKey, ...(runId ? { runId } : {}) },
        {
          result: Type.Array(Type.String()),
        },
      )) as string[];
    } catch (error) {
      throw await this.#failure(owner, sessionKey, error);
    }
  }

  async event(owner: string, request: ForwardedEvent): Promise<void> {
    try {
      await this.rpc.call(owner, "session.event", request);
    } catch (error) {
      throw await this.#failure(owner, request.sessionKey, error);
    }
  }

  /**
   * The error a failed forward gives the agent: SESSION_MOVED (claim again) when the session moved on, or once a
   * dead owner's lease has run out; the owner's own refusal as it gave it; UNAVAILABLE with when to try again.
   */
  async #failure(owner: string, sessionKey: string, error: unknown): Promise<Error> {
    if (!(error instanceof FleetRpcError)) return error as Error;
    if (error.kind === "remote") {
      if (error.code === SESSION_MOVED) return new GatewayError(SESSION_MOVED, error.message);
      if (error.code && Object.values(ErrorCodes).includes(error.code as never))
        return new ProtocolError(error.code as ProtocolError["code"], error.message);
      return new ProtocolError(ErrorCodes.UNAVAILABLE, `instance ${owner}: ${error.message}`, { retryable: true });
    }
    // The owner is gone or stuck: its lease runs out within leaseMs, then this instance may take the session.
    if (await this.#waitFree(sessionKey)) return new GatewayError(SESSION_MOVED, error.message);
    return new ProtocolError(
      ErrorCodes.UNAVAILABLE,
      `instance ${owner}, which runs session ${sessionKey}, does not answer (${error.message}); send again in a few seconds`,
      { retryable: true, retryAfterMs: this.options.leaseMs },
    );
  }

  /** Wait (up to a lease's life) for the session's lease to be free or another's; true when it is. */
  async #waitFree(sessionKey: string): Promise<boolean> {
    const key = this.leases.key(this.#name(sessionKey));
    const first = await Lease.holder(this.redis, key).catch(() => undefined);
    const until = performance.now() + this.options.leaseMs + 1_000;
    while (performance.now() < until) {
      const holder = await Lease.holder(this.redis, key).catch(() => first);
      if (!holder || holder.fence !== first?.fence) return true;
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
    return false;
  }

  /** Let every session go (a clean stop; the lease manager releases the leases). */
  close(): void {
    for (const held of this.#held.values()) clearTimeout(held.idle);
    this.#held.clear();
  }
}
