import type {
  AgentResult,
  AgentWaitResult,
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
import { RunRegistry, type StartedRun } from "./run-registry.js";
import type { AgentRunEvent, AgentRuntime, AgentTool } from "./runtime.js";
import { abortWhereRunning, forwardSend, forwardSystemEvent } from "./session-forwarding.js";
import { conversationOf, sessionHistoryTool } from "./session-history.js";
import { type DmScope, type MessageSource, sessionKeyFor } from "./session-keys.js";
import { type QueueMode, SessionLanes } from "./session-lanes.js";
import { registerSessionMethods } from "./session-methods.js";
import type { SessionPlacement } from "./session-placement.js";
import { type RunParts, startNotice, startRun } from "./session-runs.js";
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

/**
 * The agent behind the protocol: `chat.send/history/abort/inject`, `agent` (ack then final), `agent.wait` and
 * `sessions.list/preview/patch/reset/delete`, with output streamed as `chat` and `agent` events and every message kept
 * in the session's transcript.
 */
export class AgentService {
  readonly store: SessionStorage;
  readonly lanes: SessionLanes;
  readonly agentId: string;
  readonly #runs = new RunRegistry();
  readonly #parts: RunParts;
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
    this.#parts = {
      host,
      store: this.store,
      lanes: this.lanes,
      runs: this.#runs,
      options: () => this.options,
    };
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
    let run: StartedRun;
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
  async send(sessionKey: string, message: string, options: SendOptions = {}): Promise<StartedRun> {
    const { origin } = options;
    const placement = this.options.placement;
    if (placement) {
      const forwarded = await forwardSend(this.host, this.#runs, placement, sessionKey, message, options);
      if (forwarded) return forwarded;
    }
    const now = Date.now();
    const existing = this.store.get(sessionKey);
    if (existing && !this.lanes.isBusy(sessionKey) && isStale(existing, now, this.options.resetPolicy))
      await this.resetSession(sessionKey);
    const trigger = resetTrigger(message, this.options.resetTriggers);
    if (trigger) {
      await this.resetSession(sessionKey);
      message = message.slice(trigger.length).trim();
      if (!message) return startNotice(this.#parts, sessionKey, "Started a new session.", origin);
    }
    await checkRoom(this.store, sessionKey, message, this.options);
    await this.store.ensure(sessionKey, origin);
    await this.store.append(sessionKey, {
      role: "user",
      content: textContent(message),
      ...(options.idempotencyKey ? { idempotencyKey: options.idempotencyKey } : {}),
    });
    return startRun(this.#parts, sessionKey, `${this.#systemEvents.take(sessionKey)}${message}`, options);
  }

  /** Abort the session's run here, or on the instance that runs it. Returns the aborted run ids. */
  abort(sessionKey: string, runId?: string): Promise<string[]> {
    return abortWhereRunning(this.lanes, this.options.placement, sessionKey, runId);
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
    if (placement && (await forwardSystemEvent(placement, sessionKey, text, options))) return;
    await this.store.append(sessionKey, {
      role: "system",
      content: textContent(text),
      ...(options.eventIds?.length ? { eventIds: options.eventIds } : {}),
    });
    this.enqueueSystemEvent(text, sessionKey);
    if ((options.wake ?? "now") === "now")
      startRun(this.#parts, sessionKey, this.#systemEvents.take(sessionKey).trimEnd(), { mode: "followup" });
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
