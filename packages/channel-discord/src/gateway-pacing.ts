// discord.js's gateway (@discordjs/ws) reconnects 500 ms after any drop, forever, and re-IDENTIFYs every 5 s when
// sessions keep failing: a flapping gateway becomes a reconnect storm and, through IDENTIFYs, a reset token. This
// sharding strategy is discord.js's own simple one with two hooks through its public strategy interfaces: every
// (re)connection waits a jittered exponential backoff first, and every IDENTIFY asks the session start guard.
import { Collection } from "@discordjs/collection";
import {
  type FetchingStrategyOptions,
  type IContextFetchingStrategy,
  type IShardingStrategy,
  managerToFetchingStrategyOptions,
  type SessionInfo,
  type WebSocketManager,
  WebSocketShard,
  type WebSocketShardDestroyOptions,
  WebSocketShardEvents,
  WebSocketShardStatus,
} from "@discordjs/ws";
import { backoffDelay } from "@gateway/plugin-sdk";
import type { GatewaySendPayload } from "discord.js";
import type { IdentifyDelay, SessionStartGuard } from "./session-starts.js";

/** Reconnect backoff settings. */
export interface ReconnectOptions {
  /** @default 1000 */
  baseMs?: number;
  /** @default 60000 */
  maxMs?: number;
  /** @default 30000 */
  stableAfterMs?: number;
  random?: () => number;
}

/** What the pacer tells its owner. */
export interface PacerEvents {
  /** A reconnect waits `delayMs` (attempt counts from 1 since the last stable connection). */
  onWait?(wait: { attempt: number; delayMs: number; identify: boolean; reason: IdentifyDelay["reason"] }): void;
  /** The connection is ready (READY or RESUMED). */
  onConnected?(kind: "ready" | "resumed"): void;
  /** The connection closed with `code`. */
  onClosed?(code: number): void;
  onIdentify?(): void;
  /** A heartbeat was acknowledged after `latency` ms. */
  onHeartbeat?(latency: number): void;
}

const sleep = (ms: number, signal: AbortSignal) =>
  new Promise<boolean>((resolve) => {
    if (signal.aborted) return resolve(false);
    const timer = setTimeout(() => {
      signal.removeEventListener("abort", onAbort);
      resolve(true);
    }, ms);
    const onAbort = () => {
      clearTimeout(timer);
      resolve(false);
    };
    signal.addEventListener("abort", onAbort, { once: true });
  });

/**
 * The reconnect policy of one account, shared by its connections: attempt n waits `backoffDelay(n)` (jittered, capped),
 * an IDENTIFY also waits what the session start guard asks, and a connection that stays up `stableAfterMs` resets it.
 */
export class GatewayPacer {
  readonly #options: Required<Omit<ReconnectOptions, "random">> & { random: () => number };
  #attempt = 0;
  #connects = 0;
  #stableTimer: NodeJS.Timeout | undefined;

  constructor(
    readonly guard: SessionStartGuard,
    options: ReconnectOptions = {},
    readonly events: PacerEvents = {},
  ) {
    this.#options = {
      baseMs: options.baseMs ?? 1_000,
      maxMs: options.maxMs ?? 60_000,
      stableAfterMs: options.stableAfterMs ?? 30_000,
      random: options.random ?? Math.random,
    };
  }

  /** Reconnects since the account started. */
  get reconnects(): number {
    return Math.max(0, this.#connects - 1);
  }

  /** Attempts since the last stable connection. */
  get attempt(): number {
    return this.#attempt;
  }

  /** Before a connection is opened: wait the backoff (and, to IDENTIFY, the guard). False when aborted meanwhile. */
  async beforeConnect(identify: boolean, signal: AbortSignal): Promise<boolean> {
    this.#connects++;
    const attempt = this.#connects === 1 ? 0 : ++this.#attempt;
    let delayMs =
      attempt === 0 ? 0 : backoffDelay(attempt, { ...this.#options, jitter: 0.5, random: this.#options.random });
    let reason: IdentifyDelay["reason"];
    if (identify) {
      const guarded = await this.guard.delayBeforeIdentify();
      if (guarded.delayMs > delayMs) ({ delayMs, reason } = guarded);
    }
    if (delayMs <= 0) return !signal.aborted;
    this.events.onWait?.({ attempt, delayMs, identify, reason });
    return sleep(delayMs, signal);
  }

  /** An IDENTIFY goes out now (after the guard's wait). */
  identifying(): void {
    this.guard.recordIdentify();
    this.events.onIdentify?.();
  }

  connected(kind: "ready" | "resumed"): void {
    clearTimeout(this.#stableTimer);
    this.#stableTimer = setTimeout(() => {
      this.#attempt = 0;
      this.guard.markStable();
    }, this.#options.stableAfterMs);
    this.#stableTimer.unref();
    this.events.onConnected?.(kind);
  }

  closed(code: number): void {
    clearTimeout(this.#stableTimer);
    this.events.onClosed?.(code);
  }

  dispose(): void {
    clearTimeout(this.#stableTimer);
  }
}

/** A shard's view of the manager, with the pacer's waits before each connection and each IDENTIFY. */
class PacedContext implements IContextFetchingStrategy {
  shard: WebSocketShard | undefined;
  readonly stopped = new AbortController();

  constructor(
    private readonly manager: WebSocketManager,
    readonly options: FetchingStrategyOptions,
    private readonly pacer: GatewayPacer,
  ) {}

  async retrieveSessionInfo(shardId: number): Promise<SessionInfo | null> {
    const session = await this.manager.options.retrieveSessionInfo(shardId);
    // An idle shard asks for its session only when it is about to open a connection (the first or a reconnect).
    if (this.shard?.status === WebSocketShardStatus.Idle) {
      const go = await this.pacer.beforeConnect(session === null, this.stopped.signal);
      // Destroyed while waiting: never settle, so the abandoned attempt opens nothing.
      if (!go) await new Promise<never>(() => {});
    }
    return session;
  }

  updateSessionInfo(shardId: number, sessionInfo: SessionInfo | null) {
    return this.manager.options.updateSessionInfo(shardId, sessionInfo);
  }

  async waitForIdentify(_shardId: number, signal: AbortSignal): Promise<void> {
    // The real wait happened before the connection opened (nothing held open meanwhile). Discord's 5 s spacing is
    // checked again here, in case an IDENTIFY ever comes without passing that wait.
    const spacing = this.pacer.guard.spacingDelay();
    if (spacing > 0 && !(await sleep(spacing, signal))) throw new DOMException("aborted", "AbortError");
    if (signal.aborted) throw new DOMException("aborted", "AbortError");
    this.pacer.identifying();
  }
}

/** discord.js's simple sharding strategy (all shards in this process) with the pacer in every connection. */
export class PacedShardingStrategy implements IShardingStrategy {
  readonly #shards = new Collection<number, { shard: WebSocketShard; context: PacedContext }>();

  constructor(
    private readonly manager: WebSocketManager,
    private readonly pacer: GatewayPacer,
  ) {}

  async spawn(shardIds: number[]): Promise<void> {
    const options = await managerToFetchingStrategyOptions(this.manager);
    const limit = options.gatewayInformation.session_start_limit;
    this.pacer.guard.noteLimit({
      total: limit.total,
      remaining: limit.remaining,
      resetAfterMs: limit.reset_after,
      maxConcurrency: limit.max_concurrency,
    });
    for (const shardId of shardIds) {
      const context = new PacedContext(this.manager, options, this.pacer);
      const shard = new WebSocketShard(context, shardId);
      context.shard = shard;
      for (const event of Object.values(WebSocketShardEvents)) {
        shard.on(event, (payload: object) =>
          (this.manager.emit as (name: string, data: unknown) => boolean)(event, { ...payload, shardId }),
        );
      }
      shard.on(WebSocketShardEvents.Ready, () => this.pacer.connected("ready"));
      shard.on(WebSocketShardEvents.Resumed, () => this.pacer.connected("resumed"));
      shard.on(WebSocketShardEvents.Closed, ({ code }) => this.pacer.closed(code));
      shard.on(WebSocketShardEvents.HeartbeatComplete, ({ latency }) => this.pacer.events.onHeartbeat?.(latency));
      this.#shards.set(shardId, { shard, context });
    }
  }

  async connect(): Promise<void> {
    await Promise.all(this.#shards.map(({ shard }) => shard.connect()));
  }

  async destroy(options?: Omit<WebSocketShardDestroyOptions, "recover">): Promise<void> {
    for (const { context } of this.#shards.values()) context.stopped.abort();
    await Promise.all(this.#shards.map(({ shard }) => shard.destroy(options)));
    this.#shards.clear();
  }

  async send(shardId: number, payload: GatewaySendPayload): Promise<void> {
    const entry = this.#shards.get(shardId);
    if (!entry) throw new RangeError(`Shard ${shardId} not found`);
    await entry.shard.send(payload);
  }

  async fetchStatus(): Promise<Collection<number, WebSocketShardStatus>> {
    return this.#shards.mapValues(({ shard }) => shard.status);
  }
}
