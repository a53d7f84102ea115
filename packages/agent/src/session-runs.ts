// Starting a run in a session's lane on this instance: its events streamed to clients, its tool calls and reply
// kept in the transcript, the run remembered by id.
import { randomUUID } from "node:crypto";
import { textContent } from "@gateway/protocol";
import type { AgentHost } from "./agent-host.js";
import type { AgentServiceOptions, SendOptions } from "./agent-service.js";
import { broadcastNotice, RunBroadcast } from "./run-events.js";
import type { RunRecord, RunRegistry, StartedRun } from "./run-registry.js";
import { keepReply, keepToolCall } from "./run-transcript.js";
import type { AgentRunEvent } from "./runtime.js";
import type { RunOutcome, SessionLanes } from "./session-lanes.js";
import type { SessionStorage } from "./session-storage.js";
import type { SessionOrigin } from "./session-store.js";

/** What starting a run uses: the service's host, sessions, lanes, recent runs and current options. */
export interface RunParts {
  readonly host: AgentHost;
  readonly store: SessionStorage;
  readonly lanes: SessionLanes;
  readonly runs: RunRegistry;
  /** The service's options as they are now (`configure` replaces them). */
  options(): AgentServiceOptions;
}

/** Submit an input to the session's lane, stream its events, keep the answer in the transcript. */
export function startRun(
  parts: RunParts,
  sessionKey: string,
  input: string,
  { mode, origin, onEvent: listener }: SendOptions,
): StartedRun {
  const { lanes, store, runs } = parts;
  const stream = new RunBroadcast(parts.host, sessionKey, (call, callInput) =>
    keepToolCall(store, sessionKey, stream.runId, call, callInput).catch((error: Error) =>
      parts.options().onSaveFailure?.(error, { sessionKey, runId: stream.runId }),
    ),
  );
  const onEvent = (event: AgentRunEvent) => {
    listener?.(event);
    stream.handle(event);
  };
  const submission = lanes.submit(sessionKey, input, { ...(mode ? { mode } : {}), onEvent });
  const runId = submission.runId;
  stream.runId = runId;
  const known = runs.get(runId);
  const record: RunRecord = known ?? {
    runId,
    sessionKey,
    ...(origin ? { origin } : {}),
    startedAt: Date.now(),
    done: submission.done.then(async (outcome) => {
      record.endedAt = Date.now();
      record.outcome = outcome;
      try {
        await keepReply(store, sessionKey, runId, outcome, stream.finalMessage);
      } catch (error) {
        // The reply was streamed; only keeping it failed (a full disk). Nobody may be awaiting `done`: say it here.
        parts.options().onSaveFailure?.(error as Error, { sessionKey, runId });
      }
      if (!lanes.isBusy(sessionKey)) parts.options().placement?.idle(sessionKey);
      return outcome;
    }),
  };
  runs.add(record);
  return { ...record, status: submission.status };
}

/** A reply from the gateway itself (no model run): recorded and streamed like one. */
export async function startNotice(
  parts: RunParts,
  sessionKey: string,
  text: string,
  origin: SessionOrigin | undefined,
): Promise<RunRecord & { status: "started" }> {
  await parts.store.ensure(sessionKey, origin);
  const message = await parts.store.append(sessionKey, { role: "system", content: textContent(text) });
  const runId = randomUUID();
  const outcome: RunOutcome = { runId, stopReason: "stop", text };
  const record: RunRecord = {
    runId,
    sessionKey,
    ...(origin ? { origin } : {}),
    startedAt: message.timestamp,
    endedAt: message.timestamp,
    outcome,
    done: Promise.resolve(outcome),
  };
  parts.runs.add(record);
  // After the caller has the run id, like a real run's events.
  setImmediate(() => broadcastNotice(parts.host, runId, sessionKey, text, message.timestamp));
  return { ...record, status: "started" };
}
