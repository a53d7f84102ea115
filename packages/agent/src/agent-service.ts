import { randomUUID } from "node:crypto";
import type {
  AgentResult,
  AgentWaitResult,
  ChatEvent,
  ChatMessage,
  SessionDefaultsView,
  SessionSummary,
  SessionsListParams,
  SessionsListResult,
} from "@gateway/protocol";
import { chatMessageText, GatewayError, invalidRequest, textContent } from "@gateway/protocol";
import type { StateFileProblem } from "@gateway/state";
import type { AgentHost } from "./agent-host.js";
import { checkRoom } from "./message-limits.js";
import { isStale, type ResetPolicy, resetTrigger } from "./reset-policy.js";
import type { AgentRunEvent, AgentRuntime, AgentTool } from "./runtime.js";
import { conversationOf, sessionHistoryTool } from "./session-history.js";
import { type DmScope, type MessageSource, sessionKeyFor } from "./session-keys.js";
import { type QueueMode, type RunOutcome, SessionLanes } from "./session-lanes.js";
import { registerSessionMethods } from "./session-methods.js";
import { SESSION_MOVED, type SessionPlacement } from "./session-placement.js";
import type { SessionStorage } from "./session-storage.js";
import { type SessionEntry, type SessionOrigin, SessionStore } from "./session-store.js";
import {
  chatHistory,
  listSessions,
  sessionDefaultsView,
  sessionSummary,
  sessionSummaryWithPreview,
} from "./session-views.js";
import { SystemEventQueue } from "./system-events.js";
import { registerUsageMethods } from "./usage-methods.js";

/** Options of the agent service. */
export interface AgentServiceOptions {
  stateDir: string;
  runtime: AgentRuntime;
  /** @default "main" */
  agentId?: string;
  defaultQueueMode?: QueueMode;
  maxConcurrentRuns?: number;
  /** @default 600000 */
  runTimeoutMs?: number;
  /** Tools the host adds to the agent's own (sending a message to a channel…). */
  tools?: readonly AgentTool[];
  /** @default { mode: "off" } */
  resetPolicy?: ResetPolicy;
  /** Messages that start a new session, in any channel; text after the trigger is the new session's first message. @default ["/new", "/reset"] */
  resetTriggers?: readonly string[];
  /** How direct messages from channels map to sessions (`session.dmScope`). @default "main" */
  dmScope?: DmScope;
  /** Told when the session index on disk could not be used (moved aside; the sessions start over). */
  onStateProblem?: (problem: StateFileProblem) => void;
  /** Largest message a session accepts, in UTF-8 bytes (`session.maxMessageBytes`). @default 1048576 */
  maxMessageBytes?: number;
  /** Transcript size at which a session refuses new messages until it starts over (`session.maxTranscriptBytes`). @default 67108864 */
  maxTranscriptBytes?: number;
  /** Told when a finished run's reply could not be kept in the transcript (a full disk); the run itself went on. */
  onSaveFailure?: (error: Error, run: { sessionKey: string; runId: string }) => void;
  /** The model runs use when a session sets none (`chat.history` and `sessions.list` show it); absent: none (echo). */
  defaultModel?: () => { provider: string; model: string; contextWindow?: number } | undefined;
  /** Where sessions are kept; absent: files in the state dir. */
  store?: SessionStorage;
  /** Which instance runs each session's turns (fleet mode); absent: all run here. */
  placement?: SessionPlacement;
}

/** A message from a channel, as far as answering it is concerned. */
export interface ChannelMessageSource extends MessageSource {
  accountId: string;
}

/** Options of one message sent to the agent. */
export interface SendOptions {
  mode?: QueueMode;
  /** Where the message came from; the reply goes back there. */
  origin?: SessionOrigin;
  /** The run's events as they happen (besides the `chat`/`agent` broadcasts). */
  onEvent?: (event: AgentRunEvent) => void;
  /** The request's idempotency key, kept on the user message (clients match their own message by it). */
  idempotencyKey?: string;
  /** Forwarded by another instance: run here or refuse (SESSION_MOVED), never forward again. */
  forwarded?: boolean;
}

interface RunRecord {
  runId: string;
  sessionKey: string;
  origin?: SessionOrigin;
  startedAt: number;
  endedAt?: number;
  outcome?: RunOutcome;
  done: Promise<RunOutcome>;
}

const RECENT_RUNS = 1000;

/** A `chat` event without the fields every one of a run has (per state: the union stays discriminated). */
type ChatEventBody = ChatEvent extends infer Event
  ? Event extends unknown
    ? Omit<Event, "runId" | "sessionKey" | "seq">
    : never
  : never;

/**
 * The agent behind the protocol: `chat.send/history/abort/inject`, `agent` (ack then final), `agent.wait` and
 * `sessions.list/preview/patch/reset/delete`, with output streamed as `chat` and `agent` events and every message kept
 * in the session's transcript.
 */
export class AgentService {
  readonly store: SessionStorage;
  readonly lanes: SessionLanes;
  readonly agentId: string;
  readonly #runs = new Map<string, RunRecord>();
  readonly #systemEvents: SystemEventQueue;
  /** The tools every run is offered (the agent's own and the host's). */
  readonly tools: readonly AgentTool[];

  constructor(
    private readonly host: AgentHost,
    private options: AgentServiceOptions,
  ) {
    this.agentId = options.agentId ?? "main";
    this.store =
      options.store ??
      new SessionStore(
        options.stateDir,
        this.agentId,
        options.onStateProblem ? { onProblem: options.onStateProblem } : {},
      );
    this.tools = [sessionHistoryTool(this.store), ...(options.tools ?? [])];
    this.#systemEvents = new SystemEventQueue(host, this.mainSessionKey);
    this.lanes = new SessionLanes(options.runtime, {
      ...(options.defaultQueueMode ? { defaultMode: options.defaultQueueMode } : {}),
      ...(options.maxConcurrentRuns ? { maxConcurrentRuns: options.maxConcurrentRuns } : {}),
      runTimeoutMs: options.runTimeoutMs ?? 600_000,
      tools: this.tools,
      sessionId: (key) => this.store.get(key)?.sessionId,
      history: (key) => conversationOf(this.store, key),
    });
  }

  /** Change the session settings while running (a config edit). */
  configure(settings: Pick<AgentServiceOptions, "resetPolicy" | "resetTriggers" | "dmScope">): void {
    this.options = { ...this.options, ...settings };
  }

  /** Use another runtime for new runs (the model config changed); running ones finish on the old. */
  replaceRuntime(runtime: AgentRuntime): Promise<void> {
    return this.lanes.replaceRuntime(runtime);
  }

  /** Remove a session and its transcript entirely (an ephemeral one: the OpenAI endpoint's request without `user`). */
  async discardSession(key: string): Promise<void> {
    // Its run may be on another instance: it must not write on after the session changed.
    await this.abort(key).catch(() => []);
    await this.store.delete(key, { keepTranscript: false });
    await this.lanes.runtime.forget?.(key);
  }

  /** Start the session over (new id, old transcript kept) and let the backend forget it. */
  async resetSession(key: string): Promise<SessionEntry> {
    // Its run may be on another instance: it must not write on after the session changed.
    await this.abort(key).catch(() => []);
    const entry = await this.store.reset(key);
    await this.lanes.runtime.forget?.(key);
    return entry;
  }

  /** Queue a line of text for the session's next run (`wake` with next-heartbeat, background events). */
  enqueueSystemEvent(text: string, sessionKey = this.mainSessionKey): void {
    this.#systemEvents.enqueue(text, sessionKey);
  }

  /** The system events waiting for the main session's next run (as `status` lists them). */
  pendingSystemEvents(sessionKey = this.mainSessionKey): string[] {
    return this.#systemEvents.pending(sessionKey);
  }

  /** The main session key of this agent. */
  get mainSessionKey(): string {
    return `agent:${this.agentId}:main`;
  }

  /**
   * Answer a message from a channel: it runs in its chat's session (DMs by `dmScope`), remembers where it came from
   * (so "last" and the reply find the chat), and resolves with the reply to send back — a sentence saying what failed
   * when the run failed, nothing when it was aborted.
   */
  async answer(source: ChannelMessageSource, text: string): Promise<string | undefined> {
    const sessionKey = sessionKeyFor(source, {
      agentId: this.agentId,
      ...(this.options.dmScope ? { dmScope: this.options.dmScope } : {}),
    });
    const origin: SessionOrigin = {
      channel: source.channel,
      accountId: source.accountId,
      peer: source.peer,
      ...(source.threadId ? { threadId: source.threadId } : {}),
    };
    let run: RunRecord;
    try {
      run = await this.send(sessionKey, text, { origin });
    } catch (error) {
      // Too large, a full transcript, a full disk: the sender is told in words, nothing was run.
      if (GatewayError.isInstance(error)) return `Sorry, I could not take that message: ${error.message}`;
      throw error;
    }
    const outcome = await run.done;
    if (outcome.stopReason === "error") return `Sorry, I could not answer: ${outcome.error ?? "the agent failed"}`;
    if (outcome.stopReason === "aborted") return undefined;
    return outcome.text;
  }

  /** The session a recent run belongs to (the last 1000 runs are known). */
  sessionOfRun(runId: string): string | undefined {
    return this.#runs.get(runId)?.sessionKey;
  }

  /** Where "last" points: the main session's chat, else the most recently active chat; undefined before any. */
  lastOrigin(): SessionOrigin | undefined {
    const main = this.store.get(this.mainSessionKey)?.origin;
    if (main?.peer) return main;
    return this.store
      .list()
      .filter((entry) => entry.origin?.peer)
      .sort((a, b) => b.updatedAt - a.updatedAt)[0]?.origin;
  }

  /** Start a run for a message: record it, stream its events, keep the transcript. */
  async send(
    sessionKey: string,
    message: string,
    options: SendOptions = {},
  ): Promise<RunRecord & { status: "started" | "queued" }> {
    const { origin } = options;
    const placement = this.options.placement;
    // The owner may move on between the claim and the forward (idle, or it died): claim again then.
    for (let attempt = 0; placement; attempt++) {
      const place = await placement.claim(sessionKey);
      if (place.here) break;
      if (options.forwarded)
        throw new GatewayError(SESSION_MOVED, `session ${sessionKey} runs on instance ${place.owner} now`);
      try {
        return await this.#forward(placement, place.owner, sessionKey, message, options);
      } catch (error) {
        if (attempt >= 2 || (error as GatewayError).code !== SESSION_MOVED) throw error;
      }
    }
    const now = Date.now();
    const existing = this.store.get(sessionKey);
    if (existing && !this.lanes.isBusy(sessionKey) && isStale(existing, now, this.options.resetPolicy))
      await this.resetSession(sessionKey);
    const trigger = resetTrigger(message, this.options.resetTriggers);
    if (trigger) {
      await this.resetSession(sessionKey);
      message = message.slice(trigger.length).trim();
      if (!message) return this.#notice(sessionKey, "Started a new session.", origin);
    }
    await checkRoom(this.store, sessionKey, message, this.options);
    await this.store.ensure(sessionKey, origin);
    await this.store.append(sessionKey, {
      role: "user",
      content: textContent(message),
      ...(options.idempotencyKey ? { idempotencyKey: options.idempotencyKey } : {}),
    });
    return this.#run(sessionKey, `${this.#systemEvents.take(sessionKey)}${message}`, options);
  }

  /** Send to the instance that runs the session; its events reach clients through the fleet's event fan-out. */
  async #forward(
    placement: SessionPlacement,
    owner: string,
    sessionKey: string,
    message: string,
    options: SendOptions,
  ): Promise<RunRecord & { status: "started" | "queued" }> {
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
        if (outcome.ownerLost) {
          const errorMessage = outcome.error ?? "the instance running this turn stopped";
          // Past any seq the owner sent: this is the run's last event.
          this.host.broadcast("chat", {
            runId,
            sessionKey,
            seq: Number.MAX_SAFE_INTEGER,
            state: "error",
            errorMessage,
          });
          this.host.broadcast("agent", {
            runId,
            seq: Number.MAX_SAFE_INTEGER,
            stream: "lifecycle",
            ts: Date.now(),
            data: { phase: "error", stopReason: "error", error: errorMessage },
          });
        }
        return outcome;
      }),
    };
    this.#runs.set(runId, record);
    if (this.#runs.size > RECENT_RUNS) this.#runs.delete(this.#runs.keys().next().value!);
    return { ...record, status: forwarded.status };
  }

  /** Abort the session's run here, or on the instance that runs it. Returns the aborted run ids. */
  async abort(sessionKey: string, runId?: string): Promise<string[]> {
    const placement = this.options.placement;
    if (!placement || this.lanes.isBusy(sessionKey)) return this.lanes.abort(sessionKey, runId);
    const place = await placement.claim(sessionKey);
    if (place.here) {
      placement.idle(sessionKey);
      return this.lanes.abort(sessionKey, runId);
    }
    return placement.abort(place.owner, sessionKey, runId);
  }

  /** Submit an input to the session's lane, stream its events, keep the answer in the transcript. */
  #run(
    sessionKey: string,
    input: string,
    { mode, origin, onEvent: listener }: SendOptions,
  ): RunRecord & { status: "started" | "queued" } {
    let chatSeq = 0;
    let agentSeq = 0;
    let runId = "";
    let finalMessage: ChatMessage | undefined;
    const toolInputs = new Map<string, unknown>();
    const chat = (payload: ChatEventBody) =>
      this.host.broadcast("chat", { runId, sessionKey, seq: chatSeq++, ...payload });
    const agent = (stream: string, data: Record<string, unknown>) =>
      this.host.broadcast("agent", { runId, seq: agentSeq++, stream, ts: Date.now(), data });
    const onEvent = (event: AgentRunEvent) => {
      listener?.(event);
      switch (event.type) {
        case "run_start":
          agent("lifecycle", { phase: "start", sessionKey });
          break;
        case "text_delta":
          chat({ state: "delta", deltaText: event.text });
          agent("assistant", { delta: event.text });
          break;
        case "tool_start":
          toolInputs.set(event.toolCallId, event.input);
          agent("tool", { phase: "start", name: event.name, toolCallId: event.toolCallId });
          break;
        case "tool_end":
          agent("tool", { phase: "result", name: event.name, toolCallId: event.toolCallId, isError: event.isError });
          this.#keepToolCall(sessionKey, runId, event, toolInputs.get(event.toolCallId));
          break;
        case "run_end":
          if (event.stopReason === "aborted") chat({ state: "aborted", stopReason: "aborted" });
          else if (event.stopReason === "error")
            chat({ state: "error", errorMessage: event.error ?? "the run failed" });
          else {
            finalMessage = {
              role: "assistant",
              content: textContent(event.text),
              timestamp: Date.now(),
              runId,
              stopReason: event.stopReason,
              ...(event.usage
                ? {
                    usage: {
                      input: event.usage.inputTokens,
                      output: event.usage.outputTokens,
                      totalTokens: event.usage.inputTokens + event.usage.outputTokens,
                    },
                  }
                : {}),
            };
            chat({ state: "final", message: finalMessage, stopReason: event.stopReason });
          }
          agent("lifecycle", { phase: event.stopReason === "error" ? "error" : "end", stopReason: event.stopReason });
          break;
        default:
          break;
      }
    };
    const submission = this.lanes.submit(sessionKey, input, { ...(mode ? { mode } : {}), onEvent });
    runId = submission.runId;
    const known = this.#runs.get(runId);
    const record: RunRecord = known ?? {
      runId,
      sessionKey,
      ...(origin ? { origin } : {}),
      startedAt: Date.now(),
      done: submission.done.then(async (outcome) => {
        record.endedAt = Date.now();
        record.outcome = outcome;
        try {
          if (outcome.text || outcome.stopReason === "stop") {
            await this.store.append(
              sessionKey,
              finalMessage ?? {
                role: "assistant",
                content: textContent(outcome.text),
                runId,
                stopReason: outcome.stopReason,
              },
            );
          }
          if (outcome.usage)
            await this.store.addUsage(sessionKey, outcome.usage.inputTokens, outcome.usage.outputTokens);
        } catch (error) {
          // The reply was streamed; only keeping it failed (a full disk). Nobody may be awaiting `done`: say it here.
          this.options.onSaveFailure?.(error as Error, { sessionKey, runId });
        }
        if (!this.lanes.isBusy(sessionKey)) this.options.placement?.idle(sessionKey);
        return outcome;
      }),
    };
    this.#runs.set(runId, record);
    if (this.#runs.size > RECENT_RUNS) this.#runs.delete(this.#runs.keys().next().value!);
    return { ...record, status: submission.status };
  }

  /** A reply from the gateway itself (no model run): recorded and streamed like one. */
  async #notice(
    sessionKey: string,
    text: string,
    origin: SessionOrigin | undefined,
  ): Promise<RunRecord & { status: "started" }> {
    await this.store.ensure(sessionKey, origin);
    const message = await this.store.append(sessionKey, { role: "system", content: textContent(text) });
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
    this.#runs.set(runId, record);
    // After the caller has the run id, like a real run's events.
    setImmediate(() =>
      this.host.broadcast("chat", {
        runId,
        sessionKey,
        seq: 0,
        state: "final",
        message: {
          role: "assistant",
          content: textContent(text),
          timestamp: message.timestamp,
          runId,
          stopReason: "stop",
        },
        stopReason: "stop",
      }),
    );
    return { ...record, status: "started" };
  }

  /** Register every method on the host. */
  register(): void {
    const host = this.host;
    host.registerMethod(
      "chat.send",
      async (params) => {
        const run = await this.send(params.sessionKey, params.message, {
          ...(params.queueMode ? { mode: params.queueMode } : {}),
          idempotencyKey: params.idempotencyKey,
        });
        return { runId: run.runId, status: run.status };
      },
      {
        // A retry while the first call is still starting the run waits for it (it only starts the run) and gets
        // its real run id; a retry while the run goes on is told so, instead of "started" again.
        replayResult: (_params, first) =>
          this.#runs.get(first.runId)?.outcome === undefined ? { runId: first.runId, status: "in_flight" } : first,
      },
    );
    host.registerMethod("chat.history", (params) => chatHistory(this, params.sessionKey, params.limit));
    // The reference's Control UI opens a chat with `chat.startup`: the same answer.
    host.registerMethod("chat.startup", (params) => chatHistory(this, params.sessionKey, params.limit));
    host.registerMethod("chat.abort", async (params) => {
      const runIds = await this.abort(params.sessionKey, params.runId);
      return { ok: true as const, aborted: runIds.length > 0, runIds };
    });
    host.registerMethod("chat.inject", async (params) => {
      const message = await this.store.append(params.sessionKey, {
        role: "assistant",
        content: textContent(params.message),
      });
      return { ok: true as const, messageId: message.id };
    });
    host.registerMethod(
      "agent",
      async (params, context): Promise<AgentResult> => {
        const sessionKey = params.sessionKey || this.mainSessionKey;
        const target: SessionOrigin | undefined =
          params.deliver && params.channel
            ? {
                channel: params.channel,
                ...(params.accountId ? { accountId: params.accountId } : {}),
                ...(params.to ? { peer: params.to } : {}),
                ...(params.threadId ? { threadId: params.threadId } : {}),
              }
            : undefined;
        if (params.deliver && !target) throw invalidRequest("deliver needs channel (and usually to)");
        if (target) {
          if (!this.host.checkDeliveryTarget)
            throw invalidRequest(`cannot deliver to ${target.channel}: no channels are configured`);
          this.host.checkDeliveryTarget(target);
        }
        const run = await this.send(sessionKey, params.message, target ? { origin: target } : {});
        context.accept({ runId: run.runId, status: "accepted", acceptedAt: run.startedAt });
        const outcome = await run.done;
        if (target && outcome.stopReason === "stop" && outcome.text) await this.host.deliver?.(target, outcome.text);
        const status =
          outcome.stopReason === "error" ? "error" : outcome.stopReason === "aborted" ? "aborted" : ("ok" as const);
        return {
          runId: run.runId,
          status,
          summary: outcome.text,
          sessionKey,
          ...(outcome.error ? { error: outcome.error } : {}),
        };
      },
      { timeoutMs: (this.options.runTimeoutMs ?? 600_000) + 5_000 },
    );
    host.registerMethod("wake", async (params) => {
      await this.wake(params.text, params.mode, params.sessionKey || this.mainSessionKey);
      return { ok: true as const, mode: params.mode };
    });
    host.registerMethod(
      "agent.wait",
      async (params): Promise<AgentWaitResult> => {
        const run = this.#runs.get(params.runId);
        if (!run)
          return { runId: params.runId, status: "error", error: "unknown run id (runs are kept for the last 1000)" };
        const timeoutMs = params.timeoutMs ?? 30_000;
        const outcome = await Promise.race([
          run.done,
          new Promise<undefined>((resolve) => {
            const timer = setTimeout(resolve, timeoutMs);
            (timer as { unref?: () => void }).unref?.();
          }),
        ]);
        if (!outcome) return { runId: run.runId, status: "timeout", startedAt: run.startedAt };
        return {
          runId: run.runId,
          status: outcome.stopReason === "error" ? "error" : "ok",
          startedAt: run.startedAt,
          endedAt: run.endedAt ?? Date.now(),
          ...(outcome.error ? { error: outcome.error } : {}),
        };
      },
      { timeoutMs: 600_000 },
    );
    host.registerMethod("sessions.list", (params) => this.listSessions(params));
    host.registerMethod("sessions.preview", async (params) => ({
      ts: Date.now(),
      previews: await Promise.all(
        params.keys.map(async (key) => {
          if (!this.store.get(key)) return { key, status: "missing" as const, items: [] };
          const messages = (await this.store.history(key, params.limit ?? 3)).filter(
            (message) => message.role !== "toolResult" && chatMessageText(message) !== "",
          );
          return {
            key,
            status: messages.length > 0 ? ("ok" as const) : ("empty" as const),
            items: messages.map((message) => ({
              role: message.role as "user" | "assistant" | "system",
              text: chatMessageText(message).slice(0, params.maxChars ?? 200),
            })),
          };
        }),
      ),
    }));
    host.registerMethod("sessions.patch", async (params) => {
      const { key, agentId: _agentId, ...changes } = params;
      const entry = await this.store.patch(key, changes);
      return { ok: true as const, key, entry: this.summary(entry) };
    });
    host.registerMethod("sessions.reset", async (params) => {
      const entry = await this.resetSession(params.key);
      return { ok: true as const, key: params.key, sessionId: entry.sessionId };
    });
    registerSessionMethods(host, this);
    registerUsageMethods(host, this.store);
    host.registerMethod("sessions.delete", async (params) => {
      // Its run may be on another instance: it must not write on after the session changed.
      await this.abort(params.key).catch(() => []);
      const result = await this.store.delete(params.key);
      await this.lanes.runtime.forget?.(params.key);
      return { ok: true as const, key: params.key, deleted: result.deleted, archived: result.archived };
    });
  }

  /** `wake`: a line for the main session (or the one named), run now or kept for the next heartbeat. */
  wake(text: string, mode: "now" | "next-heartbeat", sessionKey = this.mainSessionKey): Promise<void> {
    return this.systemEvent(text, { sessionKey, wake: mode });
  }

  /**
   * A system event into a session: written to its transcript first (durable: it is in the session once this
   * resolves), then run now — after the current run, if one is going — or kept for the session's next run.
   */
  async systemEvent(
    text: string,
    options: { sessionKey?: string; wake?: "now" | "next-heartbeat"; eventIds?: string[] } = {},
  ): Promise<void> {
    const sessionKey = options.sessionKey ?? this.mainSessionKey;
    const placement = this.options.placement;
    if (placement) {
      const place = await placement.claim(sessionKey);
      if (!place.here)
        return placement.event(place.owner, {
          sessionKey,
          text,
          ...(options.wake ? { wake: options.wake } : {}),
          ...(options.eventIds ? { eventIds: options.eventIds } : {}),
        });
    }
    await this.store.append(sessionKey, {
      role: "system",
      content: textContent(text),
      ...(options.eventIds?.length ? { eventIds: options.eventIds } : {}),
    });
    this.enqueueSystemEvent(text, sessionKey);
    if ((options.wake ?? "now") === "now")
      this.#run(sessionKey, this.#systemEvents.take(sessionKey).trimEnd(), { mode: "followup" });
    else if (!this.lanes.isBusy(sessionKey)) placement?.idle(sessionKey);
  }

  /** Whether a background event is already in the session (recovery after a crash asks before delivering again). */
  async hasEvent(eventId: string, sessionKey = this.mainSessionKey): Promise<boolean> {
    const recent = await this.store.history(sessionKey, 1_000);
    return recent.some((message) => message.eventIds?.includes(eventId));
  }

  /** `sessions.list`: the sessions, newest first, filtered and paged. */
  listSessions(params: SessionsListParams): Promise<SessionsListResult> {
    return listSessions(this, params);
  }

  /** The model new runs use when a session sets none. */
  sessionDefaults(): SessionDefaultsView {
    return sessionDefaultsView(this.options.defaultModel?.());
  }

  /** A tool call of a run, kept in the transcript as the model's call and the tool's result. */
  #keepToolCall(
    sessionKey: string,
    runId: string,
    call: { toolCallId: string; name: string; output: unknown; isError: boolean },
    input: unknown,
  ): void {
    const output = typeof call.output === "string" ? call.output : JSON.stringify(call.output ?? null);
    const keep = async () => {
      await this.store.append(sessionKey, {
        role: "assistant",
        content: [{ type: "toolCall", id: call.toolCallId, name: call.name, arguments: input ?? {} }],
        runId,
      });
      await this.store.append(sessionKey, {
        role: "toolResult",
        toolCallId: call.toolCallId,
        toolName: call.name,
        content: textContent(output),
        isError: call.isError,
        runId,
      });
    };
    keep().catch((error: Error) => this.options.onSaveFailure?.(error, { sessionKey, runId }));
  }

  /** A session with its last message's text (`sessions.list` with `includeLastMessage`). */
  summaryWithPreview(entry: SessionEntry): Promise<SessionSummary> {
    return sessionSummaryWithPreview(this, entry);
  }

  /** A session as the protocol lists it (`sessions.list`, `sessions.patch`, `sessions.describe`). */
  summary(entry: SessionEntry): SessionSummary {
    return sessionSummary(this, entry);
  }

  /** Abort every run, release the backend, and write what the session index has pending. */
  async dispose(): Promise<void> {
    await this.lanes.dispose();
    await this.store.flush();
  }
}
