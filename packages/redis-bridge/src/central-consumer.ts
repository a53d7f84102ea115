import type { RedisConfigSection } from "./config.js";
import { wakeModeFor } from "./config.js";
import { EventConsumer, type EventConsumerOptions } from "./consumer.js";
import { formatEventsPrompt } from "./format.js";
import { CENTRAL_ALIASES } from "./keys.js";
import type { BridgeEvent } from "./push.js";

/** What the central consumer needs of the agent: where events go and whether a session already has one. */
export interface CentralAgent {
  readonly mainSessionKey: string;
  /** A system event into a session, durable once resolved, waking the agent now or at the next heartbeat. */
  systemEvent(
    text: string,
    options: { sessionKey: string; wake: "now" | "next-heartbeat"; eventIds: string[] },
  ): Promise<void>;
  /** Whether the session already holds the event (delivered just before a crash). */
  hasEvent(eventId: string, sessionKey: string): boolean | Promise<boolean>;
}

/** Options of the central consumer. */
export interface CentralConsumerOptions {
  url: string;
  /** The current `redis` section (read at each delivery: routes and wake modes apply without a restart). */
  config: () => RedisConfigSection;
  agent: CentralAgent;
  onError?: (error: Error) => void;
  /** Told how many events each delivered batch held (for /metrics). */
  onDrained?: (count: number) => void;
  redisOptions?: EventConsumerOptions["redisOptions"];
}

/** Events by the session they go to: `redis.routes` maps a type to a session key, the rest go to the main session. */
export function routeEvents(
  events: readonly BridgeEvent[],
  routes: Readonly<Record<string, string>> | undefined,
  mainSessionKey: string,
): Map<string, BridgeEvent[]> {
  const bySession = new Map<string, BridgeEvent[]>();
  for (const event of events) {
    const sessionKey = routes?.[event.type] ?? mainSessionKey;
    const batch = bySession.get(sessionKey);
    if (batch) batch.push(event);
    else bySession.set(sessionKey, [event]);
  }
  return bySession;
}

/**
 * The gateway's side of the bridge: drains the central session (`gateway`, alias `main`) loss-free and puts each
 * batch into the agent as one system event per destination session (routed by type), waking the agent now or at
 * the next heartbeat by type. A batch is acknowledged only once the agent has it.
 */
export function createCentralConsumer(options: CentralConsumerOptions): EventConsumer {
  const { agent } = options;
  const initial = options.config();
  return new EventConsumer({
    url: options.url,
    sessions: CENTRAL_ALIASES,
    ...(initial.consumerId ? { consumerId: initial.consumerId } : {}),
    ...(initial.pollIntervalMs ? { pollIntervalMs: initial.pollIntervalMs } : {}),
    ...(initial.dedupeTtlSeconds ? { dedupeTtlSeconds: initial.dedupeTtlSeconds } : {}),
    ...(initial.batchSize ? { batchSize: initial.batchSize } : {}),
    ...(initial.keyPrefix ? { keyPrefix: initial.keyPrefix } : {}),
    ...(options.redisOptions ? { redisOptions: options.redisOptions } : {}),
    async deliver(events) {
      const current = options.config();
      for (const [sessionKey, batch] of routeEvents(events, current.routes, agent.mainSessionKey))
        await agent.systemEvent(formatEventsPrompt(batch), {
          sessionKey,
          wake: wakeModeFor(
            batch.map((event) => event.type),
            current.wake,
          ),
          eventIds: batch.map((event) => event.id),
        });
      options.onDrained?.(events.length);
    },
    isDelivered: (event) => agent.hasEvent(event.id, options.config().routes?.[event.type] ?? agent.mainSessionKey),
    ...(options.onError ? { onError: options.onError } : {}),
  });
}
