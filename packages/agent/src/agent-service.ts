import type { SessionDefaultsView, SessionSummary, SessionsListParams, SessionsListResult } from "@gateway/protocol";
import { textContent } from "@gateway/protocol";
import type { StateFileProblem } from "@gateway/state";
import type { AgentHost } from "./agent-host.js";
import { registerAgentMethods } from "./agent-methods.js";
import { answerChannelMessage, type ChannelMessageSource, lastOriginOf } from "./channel-replies.js";
import { registerChatMethods } from "./chat-methods.js";
import { checkRoom } from "./message-limits.js";
import { isStale, type ResetPolicy, resetTrigger } from "./reset-policy.js";
import { RunRegistry, type StartedRun } from "./run-registry.js";
import type { AgentRunEvent, AgentRuntime, AgentTool } from "./runtime.js";
import { abortWhereRunning, forwardSend, forwardSystemEvent } from "./session-forwarding.js";
import { conversationOf, sessionHistoryTool } from "./session-history.js";
import type { DmScope } from "./session-keys.js";
import { type QueueMode, SessionLanes } from "./session-lanes.js";
import { registerSessionMethods } from "./session-methods.js";
import type { SessionPlacement } from "./session-placement.js";
import { type RunParts, startNotice, startRun } from "./session-runs.js";
import type { SessionStorage } from "./session-storage.js";
import { type SessionEntry, type SessionOrigin, SessionStore } from "./session-store.js";
import { sessionDefaultsView, sessionList, sessionSummary, sessionSummaryWithPreview } from "./session-views.js";
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
 * The agent behind the protocol: `chat.*`, `agent` (ack then final), `agent.wait`, `wake`, `sessions.*` and `usage.*`,
 * with output streamed as `chat` and `agent` events and every message kept in the session's transcript. It holds the
 * sessions, the lanes and the recent runs, and decides where a message goes (forwarded, reset, run); the work is done
 * in the files beside it (session-runs, session-forwarding, session-views, the *-methods registrations).
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
  answer(source: ChannelMessageSource, text: string): Promise<string | undefined> {
    return answerChannelMessage(this, this.options.dmScope, source, text);
  }

  /** The session a recent run belongs to (the last 1000 runs are known). */
  sessionOfRun(runId: string): string | undefined {
    return this.#runs.get(runId)?.sessionKey;
  }

  /** Where "last" points: the main session's chat, else the most recently active chat; undefined before any. */
  lastOrigin(): SessionOrigin | undefined {
    return lastOriginOf(this);
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
    registerChatMethods(this.host, this, this.#runs);
    registerAgentMethods(this.host, this, this.#runs, this.options.runTimeoutMs ?? 600_000);
    registerSessionMethods(this.host, this);
    registerUsageMethods(this.host, this.store);
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
    return sessionList(this, params);
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
