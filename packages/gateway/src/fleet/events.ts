// Events across the fleet: what is about shared things (a chat, a run, cron, pairing) goes out through Redis and is
// delivered to the clients of every other instance through their server's own broadcast path — audience, scopes and
// per-connection `seq` exactly as for a local event. What describes one instance stays on it.
import { compiledChecker, type EventName, EventTable, validateEventPayload } from "@gateway/protocol";
import type { BroadcastOptions, GatewayServer } from "@gateway/server";
import { Type } from "@sinclair/typebox";
import type { FleetMembership } from "./membership.js";
import { attachFleetPresence, PRESENCE_CHANGE_EVENT, PRESENCE_SYNC_EVENT } from "./presence.js";

/**
 * The events shared with the fleet. Not shared: `tick`, `health`, `shutdown` (they describe the instance that sends
 * them), `presence` (shared as changes, see presence.ts), `connect.challenge`, `node.invoke.request`,
 * `session.message`, `session.tool`, `sessions.changed` (addressed to connections of this instance), `config.changed`
 * and `config.error` (each instance applies and announces its own config).
 */
export const FLEET_EVENTS: ReadonlySet<string> = new Set<EventName>([
  "chat",
  "agent",
  "cron",
  "heartbeat",
  "device.pair.requested",
  "device.pair.resolved",
  "node.pair.requested",
  "node.pair.resolved",
]);

/** What a producer may set beyond an event's defaults (an addressed event is never shared). */
const DeliveryExtras = Type.Object(
  {
    audience: Type.Optional(
      Type.Union([Type.Literal("all"), Type.Literal("operator.read"), Type.Literal("operator.pairing")]),
    ),
    dropIfSlow: Type.Optional(Type.Boolean()),
  },
  { additionalProperties: false },
);

/** Share the fleet events and presence of this instance and deliver those of the others (fleet.enabled only). */
export function attachFleetEvents(server: GatewayServer, fleet: FleetMembership): void {
  let bus: import("@gateway/fleet").FleetEventBus | undefined;
  let unobserve: (() => void) | undefined;
  let presence: ReturnType<typeof attachFleetPresence> | undefined;
  server.registerService({
    name: "fleet-events",
    async start() {
      const [{ FleetEventBus }, parts] = await Promise.all([import("@gateway/fleet"), fleet.parts()]);
      const events = new FleetEventBus(parts.redis, {
        self: parts.id,
        keyPrefix: parts.keyPrefix,
        log: {
          warn: (message) => server.logger.warn(message),
          debug: (message) => server.logger.debug(message),
        },
      });
      bus = events;
      unobserve = server.onBroadcast((event, payloadJson, options) => {
        if (!FLEET_EVENTS.has(event) || options.connectionIds !== undefined || options.audience === "addressed") return;
        events.publish(event, payloadJson, optionsJson(options));
      });
      const shared = attachFleetPresence(server, events, parts);
      presence = shared;
      await events.start((entry) => {
        if (entry.event === PRESENCE_CHANGE_EVENT || entry.event === PRESENCE_SYNC_EVENT) return shared.receive(entry);
        const delivery = deliveryOf(entry.event, entry.payloadJson, entry.optionsJson);
        if (typeof delivery === "string") {
          server.logger.warn(`fleet events: skipped ${entry.event} from ${entry.origin}: ${delivery}`);
          return;
        }
        server.deliver(entry.event, delivery.payload, delivery.options);
      });
    },
    stop() {
      unobserve?.();
      presence?.stop();
      bus?.close();
    },
  });
}

/** The options a producer gave beyond the event's defaults, for the other instances (undefined: none). */
function optionsJson(options: BroadcastOptions): string | undefined {
  if (options.audience === undefined && options.dropIfSlow === undefined) return undefined;
  return JSON.stringify({ audience: options.audience, dropIfSlow: options.dropIfSlow });
}

/** An event from another instance as this server delivers it, or why it cannot be. */
function deliveryOf(
  event: string,
  payloadJson: string | undefined,
  extraJson: string | undefined,
): { payload: unknown; options: BroadcastOptions } | string {
  if (!FLEET_EVENTS.has(event) || !(event in EventTable)) return "not an event shared with the fleet";
  let payload: unknown;
  let extra: unknown = {};
  try {
    payload = payloadJson === undefined ? undefined : JSON.parse(payloadJson);
    if (extraJson !== undefined) extra = JSON.parse(extraJson);
  } catch (error) {
    return `not JSON (${(error as Error).message})`;
  }
  const checked = validateEventPayload(event as EventName, payload);
  if (!checked.ok)
    return `payload ${checked.issues.map((issue) => `${issue.path || "/"}: ${issue.message}`).join("; ")}`;
  const extras = compiledChecker(DeliveryExtras);
  if (!extras.Check(extra)) return `delivery options ${extraJson}`;
  // payloadJson parsed and matched its schema: it goes to the clients as it came, not serialised again.
  return { payload, options: { ...extra, ...(payloadJson !== undefined ? { payloadJson } : {}) } };
}
