// Presence across the fleet, as changes: each instance publishes a change of its own entries (one client came, went,
// reported) on the fleet's bus and keeps its whole list in a Redis hash that expires unless it is alive, so a new
// instance (or one whose Redis came back) reads each list once and then follows the changes. An instance that leaves
// the registry drops out of every list. Entries carry the tag `fleet:<instance>`: where that client is connected.
import type { FleetEvent, FleetEventBus } from "@gateway/fleet";
import { compiledChecker, PresenceEntry } from "@gateway/protocol";
import type { GatewayServer } from "@gateway/server";
import { type Static, Type } from "@sinclair/typebox";
import type { FleetParts } from "./membership.js";

/** The bus event of one change of an instance's presence list. */
export const PRESENCE_CHANGE_EVENT = "fleet.presence";
/** The bus event "my whole list was rewritten, read it again" (after Redis came back, possibly empty). */
export const PRESENCE_SYNC_EVENT = "fleet.presence.sync";

/** One change: the entry `key` set, or removed (no `entry`). */
const PresenceChange = Type.Object({ key: Type.String({ minLength: 1 }), entry: Type.Optional(PresenceEntry) });
type PresenceChange = Static<typeof PresenceChange>;

/** How long an instance's list outlives its last refresh (it refreshes with the registry's beat, every 2 s). */
const LIST_TTL_MS = 10_000;
const REFRESH_MS = 2_000;

/** Share this instance's presence with the fleet and show the others'; returns the handler of bus changes and a stop. */
export function attachFleetPresence(
  server: GatewayServer,
  bus: FleetEventBus,
  parts: FleetParts,
): { receive(event: FleetEvent): void; stop(): void } {
  const { redis, id: self, keyPrefix } = parts;
  const listKey = (instance: string) => `${keyPrefix}presence:${instance}`;
  const tag = (instance: string) => `fleet:${instance}`;
  const shown = new Set<string>();
  const change = compiledChecker(PresenceChange);
  const presence = server.presence;
  presence.tagOwn(tag(self));

  const show = (origin: string, key: string, entry: PresenceEntry | undefined) => {
    if (entry) shown.add(origin);
    const tags = entry?.tags?.filter((existing) => !existing.startsWith("fleet:")) ?? [];
    presence.setRemote(origin, key, entry && { ...entry, tags: [...tags.slice(0, 15), tag(origin)] });
  };
  const failed = (what: string) => (error: Error) =>
    server.logger.debug(`fleet presence: ${what} failed (${error.message}); retried at the next beat`);

  const unsubscribe = presence.onChange((key, entry) => {
    const write = entry ? redis.hset(listKey(self), key, JSON.stringify(entry)) : redis.hdel(listKey(self), key);
    // Same connection, so the list is written before the change is published (a reader of both never goes back).
    write.catch(failed("writing the list"));
    bus.publish(PRESENCE_CHANGE_EVENT, JSON.stringify({ key, ...(entry ? { entry } : {}) }));
  });

  /** Write this instance's whole list, and read every other live instance's (at start and after Redis came back). */
  const resync = async () => {
    const own = presence.ownEntries();
    const write = redis.multi().del(listKey(self));
    if (own.length > 0) write.hset(listKey(self), ...own.flatMap(([key, entry]) => [key, JSON.stringify(entry)]));
    await write.pexpire(listKey(self), LIST_TTL_MS).exec();
    bus.publish(PRESENCE_SYNC_EVENT, undefined);
    for (const member of await parts.registry.members()) if (member.id !== self) await reread(member.id);
  };
  /** Replace what is shown of `origin` with its whole list. */
  const reread = async (origin: string) => {
    const list = await redis.hgetall(listKey(origin));
    presence.dropRemote(origin);
    shown.delete(origin);
    for (const [key, json] of Object.entries(list)) {
      const entry = parseEntry(json);
      if (entry) show(origin, key, entry);
    }
  };
  /** Keep this list alive; drop the lists of instances that left the registry (dead: within its expiry). */
  const refresh = async () => {
    await redis.pexpire(listKey(self), LIST_TTL_MS);
    if (shown.size === 0) return;
    const alive = new Set((await parts.registry.members()).map((member) => member.id));
    for (const origin of shown) {
      if (alive.has(origin)) continue;
      shown.delete(origin);
      presence.dropRemote(origin);
      server.logger.info(`fleet presence: instance ${origin} is gone; its clients are no longer listed`);
    }
  };
  const onReady = () => void resync().catch(failed("reading the fleet's presence"));
  redis.on("ready", onReady);
  if (redis.status === "ready") onReady();
  const timer = setInterval(() => void refresh().catch(failed("refreshing presence")), REFRESH_MS);
  timer.unref();

  const parseEntry = (json: string): PresenceEntry | undefined => {
    try {
      const value: unknown = JSON.parse(json);
      if (compiledChecker(PresenceEntry).Check(value)) return value;
    } catch {}
    server.logger.warn(`fleet presence: skipped a malformed entry in ${keyPrefix}presence:*`);
    return undefined;
  };

  return {
    receive(event) {
      if (event.event === PRESENCE_SYNC_EVENT) {
        void reread(event.origin).catch(failed(`reading the presence of ${event.origin}`));
        return;
      }
      let value: unknown;
      try {
        value = JSON.parse(event.payloadJson ?? "");
      } catch {}
      if (!change.Check(value)) {
        server.logger.warn(`fleet presence: skipped a malformed change from ${event.origin}`);
        return;
      }
      const update: PresenceChange = value;
      show(event.origin, update.key, update.entry);
    },
    stop() {
      clearInterval(timer);
      redis.off("ready", onReady);
      unsubscribe();
      // A clean stop takes this instance's clients off the other lists at once.
      void redis.del(listKey(self)).catch(() => {});
    },
  };
}
