// The key layout producers already use (seed 000): events are JSON in a list per session, a doorbell channel per
// session, and the set of live sessions. The gateway adds its own keys under the same prefix for loss-free draining.

/** The always-on central session; `main` is accepted as an alias (older producers push there). */
export const CENTRAL_SESSION = "gateway";
export const CENTRAL_ALIASES: readonly string[] = [CENTRAL_SESSION, "main"];

/** The set of live sessions (satellites register themselves here). */
export const SESSIONS_SET = "agent:gateway:sessions";

/** The list producers LPUSH events onto (newest at the left, oldest at the right). */
export const eventsKey = (sessionId: string) => `agent:events:${sessionId}`;
/** The doorbell producers PUBLISH on after a push. */
export const notifyChannel = (sessionId: string) => `agent:notify:${sessionId}`;
/** A consumer's in-flight batch: moved here atomically, deleted once delivered. */
export const processingKey = (sessionId: string, consumerId: string) => `agent:processing:${sessionId}:${consumerId}`;
/** Marks an event id as delivered (with a TTL), so a redelivered copy is dropped. */
export const seenKey = (sessionId: string, eventId: string) => `agent:seen:${sessionId}:${eventId}`;
/** Entries that are not events (not JSON, no id): kept for a human to look at, never retried. */
export const deadKey = (sessionId: string) => `agent:dead:${sessionId}`;

/** The keys of one bridge; a prefix keeps a bridge (a test's, a second deployment's) apart on a shared Redis. */
export interface BridgeKeys {
  readonly sessions: string;
  events(sessionId: string): string;
  notify(sessionId: string): string;
  processing(sessionId: string, consumerId: string): string;
  seen(sessionId: string, eventId: string): string;
  dead(sessionId: string): string;
}

/**
 * The bridge's keys under `prefix` (`""`, the default, is the seed's layout that producers such as `redis-cli
 * LPUSH agent:events:<session>` use; producers and the consumer must agree on it).
 */
export function bridgeKeys(prefix = ""): BridgeKeys {
  return {
    sessions: `${prefix}${SESSIONS_SET}`,
    events: (sessionId) => `${prefix}${eventsKey(sessionId)}`,
    notify: (sessionId) => `${prefix}${notifyChannel(sessionId)}`,
    processing: (sessionId, consumerId) => `${prefix}${processingKey(sessionId, consumerId)}`,
    seen: (sessionId, eventId) => `${prefix}${seenKey(sessionId, eventId)}`,
    dead: (sessionId) => `${prefix}${deadKey(sessionId)}`,
  };
}
