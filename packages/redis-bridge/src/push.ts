// The producer side: a tiny API any process can use (it needs only ioredis). `pushEvent` delivers to the central
// session always and to the origin session when it is live, in one MULTI, then rings each session's doorbell.
import { randomUUID } from "node:crypto";
import type { Redis } from "ioredis";
import { BridgeError } from "./bridge-error.js";
import { bridgeKeys, CENTRAL_SESSION } from "./keys.js";

/** One background event, as stored in Redis. */
export interface BridgeEvent {
  id: string;
  type: string;
  source: string;
  payload: Record<string, unknown>;
  /** Milliseconds since the epoch. */
  ts: number;
}

/** A new event with a fresh id and the current time. */
export function createEvent(type: string, source: string, payload: Record<string, unknown> = {}): BridgeEvent {
  if (!type) throw new BridgeError("BRIDGE_INVALID_EVENT", "an event needs a type");
  return { id: randomUUID(), type, source: source || "unknown", payload, ts: Date.now() };
}

/**
 * Push an event: to the central session always, and to `originSession` when it is registered as live. Returns the
 * event and the sessions it went to. With ioredis's default offline queue, a push during a Redis outage waits for the
 * reconnection instead of failing (create the client with `maxRetriesPerRequest: null` to wait indefinitely).
 */
export async function pushEvent(
  redis: Redis,
  type: string,
  source: string,
  payload: Record<string, unknown> = {},
  originSession?: string,
  options: { keyPrefix?: string } = {},
): Promise<{ event: BridgeEvent; sessions: string[] }> {
  const keys = bridgeKeys(options.keyPrefix);
  const event = createEvent(type, source, payload);
  const targets = new Set([CENTRAL_SESSION]);
  if (originSession && originSession !== CENTRAL_SESSION && (await redis.sismember(keys.sessions, originSession)) === 1)
    targets.add(originSession);
  const json = JSON.stringify(event);
  const transaction = redis.multi();
  for (const session of targets) transaction.lpush(keys.events(session), json);
  for (const session of targets) transaction.publish(keys.notify(session), JSON.stringify({ type, id: event.id }));
  const results = await transaction.exec();
  const failed = results?.find(([error]) => error);
  if (!results || failed)
    throw new BridgeError(
      "BRIDGE_PUSH_FAILED",
      `pushEvent failed: ${failed?.[0]?.message ?? "the transaction was aborted"}`,
    );
  return { event, sessions: [...targets] };
}
