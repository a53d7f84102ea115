import type { BridgeEvent } from "./push.js";

/**
 * The events as one message for the agent, in the seed's format: a count and the time, then one line per event with
 * its time, type and source (and the payload, compact), and what to do.
 */
export function formatEventsPrompt(events: readonly BridgeEvent[], now = new Date()): string {
  const lines = events.map((event) => {
    const time = new Date(event.ts).toISOString().slice(11, 19);
    const payload = Object.keys(event.payload).length > 0 ? ` ${JSON.stringify(event.payload).slice(0, 500)}` : "";
    return `- **[${time}] ${event.type}** (${event.source})${payload}`;
  });
  return [
    `## 🔔 ${events.length} event(s) — ${now.toISOString()}`,
    "",
    ...lines,
    "",
    "Take action if needed, otherwise acknowledge briefly.",
  ].join("\n");
}
