// Live sessions for the reference's clients: a connection subscribes to the session list (`sessions.subscribe` →
// `sessions.changed`) or to one session's messages (`sessions.messages.subscribe` → `session.message` for every
// message appended to its transcript, `session.tool` for its tool calls). Subscriptions end with the connection.
import { type AgentService, type TranscriptMessage, wireMessage } from "@gateway/agent";
import type { SessionsChangedEvent } from "@gateway/protocol";
import type { GatewayServer } from "@gateway/server";

/** The subscriptions of every connection, and the events they get. */
export class SessionEvents {
  readonly #listSubscribers = new Set<string>();
  readonly #messageSubscribers = new Map<string, Set<string>>();
  /** The session of each run in progress (`agent` events name it only in their start). */
  readonly #runSessions = new Map<string, string>();
  #agent: AgentService | undefined;

  constructor(private readonly server: GatewayServer) {
    server.onDisconnect((connection) => this.#forget(connection.id));
  }

  /** Start following the agent's transcripts and register the subscription methods. */
  attach(agent: AgentService): void {
    this.#agent = agent;
    agent.store.onAppend((sessionKey, message) => this.#appended(sessionKey, message));
    const server = this.server;
    server.registerMethod("sessions.subscribe", async (params, context) => {
      this.#listSubscribers.add(context.connectionId);
      if (Object.keys(params).length === 0) return { subscribed: true };
      return { subscribed: true, list: await agent.listSessions(params) };
    });
    server.registerMethod("sessions.unsubscribe", (_params, context) => {
      this.#listSubscribers.delete(context.connectionId);
      return { subscribed: false as const };
    });
    server.registerMethod("sessions.messages.subscribe", (params, context) => {
      let subscribers = this.#messageSubscribers.get(params.key);
      if (!subscribers) {
        subscribers = new Set();
        this.#messageSubscribers.set(params.key, subscribers);
      }
      subscribers.add(context.connectionId);
      return {
        subscribed: true,
        key: params.key,
        // There are no approvals in this gateway, so none is pending: the replay is complete and empty.
        ...(params.includeApprovals ? { approvalReplay: { approvals: [], complete: true as const } } : {}),
      };
    });
    server.registerMethod("sessions.messages.unsubscribe", (params, context) => {
      const subscribers = this.#messageSubscribers.get(params.key);
      subscribers?.delete(context.connectionId);
      if (subscribers?.size === 0) this.#messageSubscribers.delete(params.key);
      return { subscribed: false, key: params.key };
    });
  }

  /** See every event the agent broadcasts: run starts and ends change a session, tool steps go to its subscribers. */
  observe(event: string, payload: unknown): void {
    if (event !== "agent") return;
    const { runId, stream, data } = payload as { runId: string; stream: string; data: Record<string, unknown> };
    if (stream === "lifecycle" && data.phase === "start" && typeof data.sessionKey === "string") {
      this.#runSessions.set(runId, data.sessionKey);
      this.#changed(data.sessionKey, "start", runId);
      return;
    }
    const sessionKey = this.#runSessions.get(runId);
    if (!sessionKey) return;
    if (stream === "lifecycle" && (data.phase === "end" || data.phase === "error")) {
      this.#runSessions.delete(runId);
      this.#changed(sessionKey, "end", runId);
    } else if (stream === "tool") {
      const subscribers = this.#messageSubscribers.get(sessionKey);
      if (!subscribers?.size) return;
      this.server.broadcast(
        "session.tool",
        {
          sessionKey,
          agentId: this.#agent!.agentId,
          runId,
          phase: data.phase === "start" ? "start" : "result",
          toolCallId: String(data.toolCallId),
          name: String(data.name),
          ...(typeof data.isError === "boolean" ? { isError: data.isError } : {}),
          ts: Date.now(),
        },
        { connectionIds: [...subscribers] },
      );
    }
  }

  #appended(sessionKey: string, line: TranscriptMessage): void {
    const subscribers = this.#messageSubscribers.get(sessionKey);
    if (subscribers?.size)
      this.server.broadcast(
        "session.message",
        {
          sessionKey,
          agentId: this.#agent!.agentId,
          messageId: line.id,
          ...(line.seq !== undefined ? { messageSeq: line.seq } : {}),
          message: wireMessage(line),
          ...(line.runId ? { runId: line.runId } : {}),
        },
        { connectionIds: [...subscribers] },
      );
    const message = line;
    this.#changed(sessionKey, "message", message.runId);
  }

  #changed(sessionKey: string, phase: SessionsChangedEvent["phase"], runId?: string): void {
    if (this.#listSubscribers.size === 0 || !this.#agent) return;
    const entry = this.#agent.store.get(sessionKey);
    this.server.broadcast(
      "sessions.changed",
      {
        sessionKey,
        agentId: this.#agent.agentId,
        phase,
        ts: Date.now(),
        ...(runId ? { runId } : {}),
        ...(entry ? { session: this.#agent.summary(entry) } : {}),
      },
      { connectionIds: [...this.#listSubscribers] },
    );
  }

  #forget(connectionId: string): void {
    this.#listSubscribers.delete(connectionId);
    for (const [key, subscribers] of this.#messageSubscribers) {
      subscribers.delete(connectionId);
      if (subscribers.size === 0) this.#messageSubscribers.delete(key);
    }
  }
}
