import type {
  AgentResult,
  AgentWaitResult,
  ChatEvent,
  ChatHistoryResult,
  MethodName,
  MethodParams,
  MethodResult,
  SessionSummary,
  SessionsListResult,
} from "@gateway/protocol";
import type { AgentRunEvent, AgentRuntime } from "./runtime.js";
import { type QueueMode, type RunOutcome, SessionLanes } from "./session-lanes.js";
import { type SessionEntry, SessionStore } from "./session-store.js";

/** What the service needs from the gateway: a way to register methods and to broadcast events. */
export interface AgentHost {
  registerMethod<M extends MethodName>(
    name: M,
    handler: (params: MethodParams<M>, context: { accept(payload: unknown): void }) => unknown,
    options?: {
      timeoutMs?: number;
      inFlightResult?: (params: MethodParams<M>) => MethodResult<M>;
      replayResult?: (params: MethodParams<M>, first: MethodResult<M>) => MethodResult<M>;
    },
  ): void;
  broadcast(event: "agent" | "chat", payload: unknown): number;
}

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
}

interface RunRecord {
  runId: string;
  sessionKey: string;
  startedAt: number;
  endedAt?: number;
  outcome?: RunOutcome;
  done: Promise<RunOutcome>;
}

const RECENT_RUNS = 1000;

/**
 * The agent behind the protocol: `chat.send/history/abort/inject`, `agent` (ack then final), `agent.wait` and
 * `sessions.list/preview/patch/reset/delete`, with output streamed as `chat` and `agent` events and every message kept
 * in the session's transcript.
 */
export class AgentService {
  readonly store: SessionStore;
  readonly lanes: SessionLanes;
  readonly agentId: string;
  readonly #runs = new Map<string, RunRecord>();

  constructor(
    private readonly host: AgentHost,
    private readonly options: AgentServiceOptions,
  ) {
    this.agentId = options.agentId ?? "main";
    this.store = new SessionStore(options.stateDir, this.agentId);
    this.lanes = new SessionLanes(options.runtime, {
      ...(options.defaultQueueMode ? { defaultMode: options.defaultQueueMode } : {}),
      ...(options.maxConcurrentRuns ? { maxConcurrentRuns: options.maxConcurrentRuns } : {}),
      runTimeoutMs: options.runTimeoutMs ?? 600_000,
    });
  }

  /** The main session key of this agent. */
  get mainSessionKey(): string {
    return `agent:${this.agentId}:main`;
  }

  /** Start a run for a message: record it, stream its events, keep the transcript. */
  async send(
    sessionKey: string,
    message: string,
    mode?: QueueMode,
  ): Promise<RunRecord & { status: "started" | "queued" }> {
    await this.store.append(sessionKey, { role: "user", text: message });
    let chatSeq = 0;
    let agentSeq = 0;
    let runId = "";
    const chat = (payload: Omit<ChatEvent, "runId" | "sessionKey" | "seq">) =>
      this.host.broadcast("chat", { runId, sessionKey, seq: chatSeq++, ...payload });
    const agent = (stream: string, data: Record<string, unknown>) =>
      this.host.broadcast("agent", { runId, seq: agentSeq++, stream, ts: Date.now(), data });
    const onEvent = (event: AgentRunEvent) => {
      switch (event.type) {
        case "run_start":
          agent("lifecycle", { phase: "start", sessionKey });
          break;
        case "text_delta":
          chat({ state: "delta", deltaText: event.text } as never);
          agent("assistant", { delta: event.text });
          break;
        case "tool_start":
          agent("tool", { phase: "start", name: event.name, toolCallId: event.toolCallId });
          break;
        case "tool_end":
          agent("tool", { phase: "result", name: event.name, toolCallId: event.toolCallId, isError: event.isError });
          break;
        case "run_end":
          if (event.stopReason === "aborted") chat({ state: "aborted", stopReason: "aborted" } as never);
          else if (event.stopReason === "error")
            chat({ state: "error", errorMessage: event.error ?? "the run failed" } as never);
          else
            chat({
              state: "final",
              message: { role: "assistant", text: event.text },
              stopReason: event.stopReason,
            } as never);
          agent("lifecycle", { phase: event.stopReason === "error" ? "error" : "end", stopReason: event.stopReason });
          break;
        default:
          break;
      }
    };
    const submission = this.lanes.submit(sessionKey, message, { ...(mode ? { mode } : {}), onEvent });
    runId = submission.runId;
    const existing = this.#runs.get(runId);
    const record: RunRecord = existing ?? {
      runId,
      sessionKey,
      startedAt: Date.now(),
      done: submission.done.then(async (outcome) => {
        record.endedAt = Date.now();
        record.outcome = outcome;
        if (outcome.text || outcome.stopReason === "stop") {
          await this.store.append(sessionKey, {
            role: "assistant",
            text: outcome.text,
            runId,
            stopReason: outcome.stopReason,
          });
        }
        return outcome;
      }),
    };
    this.#runs.set(runId, record);
    if (this.#runs.size > RECENT_RUNS) this.#runs.delete(this.#runs.keys().next().value!);
    return { ...record, status: submission.status };
  }

  /** Register every method on the host. */
  register(): void {
    const host = this.host;
    host.registerMethod(
      "chat.send",
      async (params) => {
        const run = await this.send(params.sessionKey, params.message, params.queueMode);
        return { runId: run.runId, status: run.status };
      },
      {
        inFlightResult: () => ({ runId: "pending", status: "in_flight" }),
        // A retry of the same message while its run goes on is told so, instead of "started" again.
        replayResult: (_params, first) =>
          this.#runs.get(first.runId)?.outcome === undefined ? { runId: first.runId, status: "in_flight" } : first,
      },
    );
    host.registerMethod("chat.history", async (params): Promise<ChatHistoryResult> => {
      const messages = await this.store.history(params.sessionKey, params.limit ?? 200);
      const entry = this.store.get(params.sessionKey);
      return {
        sessionKey: params.sessionKey,
        ...(entry ? { sessionId: entry.sessionId } : {}),
        messages: messages.map((message) => ({
          id: message.id,
          role: message.role,
          text: message.text,
          ts: message.ts,
          ...(message.runId ? { runId: message.runId } : {}),
          ...(message.stopReason ? { stopReason: message.stopReason } : {}),
        })),
      };
    });
    host.registerMethod("chat.abort", (params) => {
      const runIds = this.lanes.abort(params.sessionKey, params.runId);
      return { ok: true as const, aborted: runIds.length > 0, runIds };
    });
    host.registerMethod("chat.inject", async (params) => {
      const message = await this.store.append(params.sessionKey, { role: "assistant", text: params.message });
      return { ok: true as const, messageId: message.id };
    });
    host.registerMethod(
      "agent",
      async (params, context): Promise<AgentResult> => {
        const sessionKey = params.sessionKey || this.mainSessionKey;
        const run = await this.send(sessionKey, params.message);
        context.accept({ runId: run.runId, status: "accepted", acceptedAt: run.startedAt });
        const outcome = await run.done;
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
    host.registerMethod("sessions.list", (params): SessionsListResult => {
      let sessions = this.store.list();
      if (params.activeMinutes)
        sessions = sessions.filter((entry) => Date.now() - entry.updatedAt <= params.activeMinutes! * 60_000);
      if (params.search)
        sessions = sessions.filter(
          (entry) => entry.key.includes(params.search!) || entry.label?.includes(params.search!),
        );
      const offset = params.offset ?? 0;
      const page = sessions.slice(offset, offset + (params.limit ?? 100));
      return {
        ts: Date.now(),
        count: sessions.length,
        sessions: page.map((entry) => this.#summary(entry)),
      };
    });
    host.registerMethod("sessions.preview", async (params) => ({
      ts: Date.now(),
      previews: await Promise.all(
        params.keys.map(async (key) => {
          if (!this.store.get(key)) return { key, status: "missing" as const, items: [] };
          const messages = (await this.store.history(key, params.limit ?? 3)).filter(
            (message) => message.role !== "tool",
          );
          return {
            key,
            status: messages.length > 0 ? ("ok" as const) : ("empty" as const),
            items: messages.map((message) => ({
              role: message.role as "user" | "assistant" | "system",
              text: message.text.slice(0, params.maxChars ?? 200),
            })),
          };
        }),
      ),
    }));
    host.registerMethod("sessions.patch", async (params) => {
      const { key, agentId: _agentId, ...changes } = params;
      const entry = await this.store.patch(key, changes);
      return { ok: true as const, key, entry: this.#summary(entry) };
    });
    host.registerMethod("sessions.reset", async (params) => {
      const entry = await this.store.reset(params.key);
      return { ok: true as const, key: params.key, sessionId: entry.sessionId };
    });
    host.registerMethod("sessions.delete", async (params) => {
      const result = await this.store.delete(params.key);
      return { ok: true as const, key: params.key, deleted: result.deleted, archived: result.archived };
    });
  }

  /** A session as the protocol lists it (`sessions.list`, `sessions.patch`). */
  #summary(entry: SessionEntry): SessionSummary {
    return {
      key: entry.key,
      sessionId: entry.sessionId,
      agentId: this.agentId,
      updatedAt: entry.updatedAt,
      ...(entry.label ? { label: entry.label } : {}),
      ...(entry.origin ? { origin: entry.origin } : {}),
      inputTokens: entry.inputTokens,
      outputTokens: entry.outputTokens,
      totalTokens: entry.inputTokens + entry.outputTokens,
      ...(entry.thinkingLevel ? { thinkingLevel: entry.thinkingLevel } : {}),
      ...(entry.model ? { model: entry.model } : {}),
      ...(entry.sendPolicy ? { sendPolicy: entry.sendPolicy } : {}),
    };
  }

  /** Abort every run and release the backend. */
  dispose(): Promise<void> {
    return this.lanes.dispose();
  }
}
