// A run as clients follow it: its events as `chat` (per session) and `agent` (per run) broadcasts, each stream with
// its own sequence numbers.
import type { ChatEvent, ChatMessage, GatewayHost } from "@gateway/protocol";
import { textContent } from "@gateway/protocol";
import type { AgentRunEvent } from "./runtime.js";

/** A `chat` event without the fields every one of a run has (per state: the union stays discriminated). */
type ChatEventBody = ChatEvent extends infer Event
  ? Event extends unknown
    ? Omit<Event, "runId" | "sessionKey" | "seq">
    : never
  : never;

/** A tool call as it ended, with the input it was called with. */
type ToolCall = Extract<AgentRunEvent, { type: "tool_end" }>;

/** Broadcasts one run's events as `chat` and `agent` events; `runId` is set once the lanes gave it. */
export class RunBroadcast {
  runId = "";
  /** The reply as the `chat` final carried it (what the transcript keeps). */
  finalMessage: ChatMessage | undefined;
  #chatSeq = 0;
  #agentSeq = 0;
  readonly #toolInputs = new Map<string, unknown>();

  constructor(
    private readonly host: Pick<GatewayHost, "broadcast">,
    private readonly sessionKey: string,
    /** Told of every tool call that ended (to keep it in the transcript). */
    private readonly onToolCall: (call: ToolCall, input: unknown) => void,
  ) {}

  /** Broadcast what one event of the run means to clients. */
  handle(event: AgentRunEvent): void {
    switch (event.type) {
      case "run_start":
        this.#agent("lifecycle", { phase: "start", sessionKey: this.sessionKey });
        break;
      case "text_delta":
        this.#chat({ state: "delta", deltaText: event.text });
        this.#agent("assistant", { delta: event.text });
        break;
      case "tool_start":
        this.#toolInputs.set(event.toolCallId, event.input);
        this.#agent("tool", { phase: "start", name: event.name, toolCallId: event.toolCallId });
        break;
      case "tool_end":
        this.#agent("tool", {
          phase: "result",
          name: event.name,
          toolCallId: event.toolCallId,
          isError: event.isError,
        });
        this.onToolCall(event, this.#toolInputs.get(event.toolCallId));
        break;
      case "run_end":
        if (event.stopReason === "aborted") this.#chat({ state: "aborted", stopReason: "aborted" });
        else if (event.stopReason === "error")
          this.#chat({ state: "error", errorMessage: event.error ?? "the run failed" });
        else {
          this.finalMessage = {
            role: "assistant",
            content: textContent(event.text),
            timestamp: Date.now(),
            runId: this.runId,
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
          this.#chat({ state: "final", message: this.finalMessage, stopReason: event.stopReason });
        }
        this.#agent("lifecycle", {
          phase: event.stopReason === "error" ? "error" : "end",
          stopReason: event.stopReason,
        });
        break;
      default:
        break;
    }
  }

  #chat(payload: ChatEventBody): void {
    this.host.broadcast("chat", { runId: this.runId, sessionKey: this.sessionKey, seq: this.#chatSeq++, ...payload });
  }

  #agent(stream: string, data: Record<string, unknown>): void {
    this.host.broadcast("agent", { runId: this.runId, seq: this.#agentSeq++, stream, ts: Date.now(), data });
  }
}

/** The last events of a forwarded run whose owner died: nobody else will end it for the clients that follow it. */
export function broadcastOwnerLost(
  host: Pick<GatewayHost, "broadcast">,
  runId: string,
  sessionKey: string,
  errorMessage: string,
): void {
  // Past any seq the owner sent: this is the run's last event.
  host.broadcast("chat", { runId, sessionKey, seq: Number.MAX_SAFE_INTEGER, state: "error", errorMessage });
  host.broadcast("agent", {
    runId,
    seq: Number.MAX_SAFE_INTEGER,
    stream: "lifecycle",
    ts: Date.now(),
    data: { phase: "error", stopReason: "error", error: errorMessage },
  });
}

/** The `chat` final of a reply from the gateway itself (no model run). */
export function broadcastNotice(
  host: Pick<GatewayHost, "broadcast">,
  runId: string,
  sessionKey: string,
  text: string,
  timestamp: number,
): void {
  host.broadcast("chat", {
    runId,
    sessionKey,
    seq: 0,
    state: "final",
    message: { role: "assistant", content: textContent(text), timestamp, runId, stopReason: "stop" },
    stopReason: "stop",
  });
}
