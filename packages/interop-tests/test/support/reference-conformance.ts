// Every frame our gateway sent a reference client, checked against the reference's published schema
// (`@openclaw/gateway-protocol`): each response and event frame, each event payload and each result the schema defines.
import { loadReferenceSchema, referenceValidators } from "../../../protocol/test/reference-schema.js";
import type { UiCall, UiEvent } from "./control-ui.js";

const reference = loadReferenceSchema();
const validator = referenceValidators(reference);

/**
 * The results the reference's schema defines, by method. `health` is left out on purpose: our `health` method adds
 * `gateway` (process figures) to the snapshot, a documented difference; its snapshot is checked in every `health`
 * event and in `hello-ok`.
 */
export const RESULT_DEFINITIONS: Record<string, string> = {
  connect: "HelloOk",
  "logs.tail": "LogsTailResult",
  "config.schema": "ConfigSchemaResponse",
  "config.schema.lookup": "ConfigSchemaLookupResult",
  "channels.status": "ChannelsStatusResult",
  "channels.pairing.list": "ChannelsPairingListResult",
  "agents.list": "AgentsListResult",
  "agent.identity.get": "AgentIdentityResult",
  "models.list": "ModelsListResult",
  "system.info": "SystemInfoResult",
  "update.status": "UpdateStatusResult",
  "sessions.create": "SessionsCreateResult",
  "sessions.delete": "SessionsDeleteResult",
  "cron.add": "CronAddResult",
};

/** The event payloads the reference's schema defines, by event. */
const EVENT_DEFINITIONS: Record<string, string> = {
  chat: "ChatEvent",
  agent: "AgentEvent",
  tick: "TickEvent",
  shutdown: "ShutdownEvent",
  health: "Snapshot/properties/health",
};

/** What did not validate: one line per frame, naming the method or event and the schema's complaint. */
export function referenceViolations(calls: readonly UiCall[], events: readonly UiEvent[]): string[] {
  const problems: string[] = [];
  const check = (definition: string, value: unknown, what: string) => {
    const validate = validator(definition);
    if (!validate(value)) problems.push(`${what} is not a valid ${definition}: ${JSON.stringify(validate.errors)}`);
  };
  for (const call of calls) {
    check("ResponseFrame", call.frame, `the ${call.method} response frame`);
    const definition = RESULT_DEFINITIONS[call.method];
    if (call.ok && definition && (call.payload as { status?: string })?.status !== "accepted")
      check(definition, call.payload, `the ${call.method} result`);
  }
  for (const event of events) {
    check("EventFrame", event.frame, `the ${event.event} event frame`);
    const definition = EVENT_DEFINITIONS[event.event];
    if (definition) check(definition, event.payload, `the ${event.event} event`);
  }
  return problems;
}

/** How many results and events had a definition to check (so a test can show the check was not empty). */
export function checkedCounts(calls: readonly UiCall[], events: readonly UiEvent[]) {
  return {
    results: calls.filter((call) => call.ok && RESULT_DEFINITIONS[call.method]).length,
    events: events.filter((event) => EVENT_DEFINITIONS[event.event]).length,
  };
}
