// Fleet mode: a session's turns run on the instance that holds it; the others forward its messages, system events
// and aborts there, and follow the forwarded runs so that `agent.wait` and `chat.send` retries work here too.
import { GatewayError } from "@gateway/protocol";
import type { AgentHost } from "./agent-host.js";
import type { SendOptions } from "./agent-service.js";
import { broadcastOwnerLost } from "./run-events.js";
import type { RunRecord, RunRegistry, StartedRun } from "./run-registry.js";
import type { SessionLanes } from "./session-lanes.js";
import { SESSION_MOVED, type SessionPlacement } from "./session-placement.js";

/**
 * Send a message to the instance that runs its session, when that is another one; undefined: it runs here. Claims
 * again when the owner moved on between the claim and the forward (idle, or it died).
 */
export async function forwardSend(
  host: AgentHost,
  runs: RunRegistry,
  placement: SessionPlacement,
  sessionKey: string,
  message: string,
  options: SendOptions,
): Promise<StartedRun | undefined> {
  for (let attempt = 0; ; attempt++) {
    const place = await placement.claim(sessionKey);
    if (place.here) return undefined;
    if (options.forwarded)
      throw new GatewayError(SESSION_MOVED, `session ${sessionKey} runs on instance ${place.owner} now`);
    try {
      return await sendToOwner(host, runs, placement, place.owner, sessionKey, message, options);
    } catch (error) {
      if (attempt >= 2 || (error as GatewayError).code !== SESSION_MOVED) throw error;
    }
  }
}

/** Send to the instance that runs the session; its events reach clients through the fleet's event fan-out. */
async function sendToOwner(
  host: AgentHost,
  runs: RunRegistry,
  placement: SessionPlacement,
  owner: string,
  sessionKey: string,
  message: string,
  options: SendOptions,
): Promise<StartedRun> {
  const forwarded = await placement.send(owner, {
    sessionKey,
    message,
    ...(options.mode ? { mode: options.mode } : {}),
    ...(options.origin ? { origin: options.origin } : {}),
    ...(options.idempotencyKey ? { idempotencyKey: options.idempotencyKey } : {}),
  });
  const { runId } = forwarded;
  const record: RunRecord = {
    runId,
    sessionKey,
    ...(options.origin ? { origin: options.origin } : {}),
    startedAt: forwarded.startedAt,
    done: forwarded.done.then((outcome) => {
      record.endedAt = Date.now();
      record.outcome = outcome;
      // The owner died mid-run: nobody else will end the run for the clients that follow it.
      if (outcome.ownerLost)
        broadcastOwnerLost(host, runId, sessionKey, outcome.error ?? "the instance running this turn stopped");
      return outcome;
    }),
  };
  runs.add(record);
  return { ...record, status: forwarded.status };
}

/** Give a system event to the instance that runs its session, when that is another one; false: it goes in here. */
export async function forwardSystemEvent(
  placement: SessionPlacement,
  sessionKey: string,
  text: string,
  options: { wake?: "now" | "next-heartbeat"; eventIds?: string[] },
): Promise<boolean> {
  const place = await placement.claim(sessionKey);
  if (place.here) return false;
  await placement.event(place.owner, {
    sessionKey,
    text,
    ...(options.wake ? { wake: options.wake } : {}),
    ...(options.eventIds ? { eventIds: options.eventIds } : {}),
  });
  return true;
}

/** Abort the session's run here, or on the instance that runs it. Returns the aborted run ids. */
export async function abortWhereRunning(
  lanes: SessionLanes,
  placement: SessionPlacement | undefined,
  sessionKey: string,
  runId?: string,
): Promise<string[]> {
  if (!placement || lanes.isBusy(sessionKey)) return lanes.abort(sessionKey, runId);
  const place = await placement.claim(sessionKey);
  if (place.here) {
    placement.idle(sessionKey);
    return lanes.abort(sessionKey, runId);
  }
  return placement.abort(place.owner, sessionKey, runId);
}
