/** How a run ended. */
export type StopReason = "stop" | "length" | "aborted" | "error";

/** Token counts of a run. */
export interface Usage {
  inputTokens: number;
  outputTokens: number;
}

/** One step of a run, in order: `run_start`, then deltas and tool steps, then exactly one `run_end`. */
export type AgentRunEvent =
  | { type: "run_start"; runId: string }
  | { type: "text_delta"; text: string }
  | { type: "thinking_delta"; text: string }
  | { type: "tool_start"; toolCallId: string; name: string; input: unknown }
  | { type: "tool_end"; toolCallId: string; name: string; output: unknown; isError: boolean }
  | { type: "message_end"; text: string }
  | { type: "queued"; position: number }
  | { type: "run_end"; runId: string; stopReason: StopReason; text: string; error?: string; usage?: Usage };

/** What a backend can do; the lanes pick queue behaviour from it. */
export interface AgentCapabilities {
  streaming: boolean;
  tools: boolean;
  /** Inject a message into a running turn (otherwise `steer` falls back to `followup`). */
  steer: boolean;
  images: boolean;
}

/** Options of one run. */
export interface RunOptions {
  runId: string;
  signal: AbortSignal;
}

/**
 * The runtime the gateway drives. It knows nothing about channels or the protocol: a backend turns an input for a
 * session into a stream of run events. No backend library's types appear here.
 */
export interface AgentRuntime {
  readonly name: string;
  readonly capabilities: AgentCapabilities;
  /** Run one turn; the stream always ends with `run_end` (errors too: a run error, never a thrown exception). */
  run(sessionKey: string, input: string, options: RunOptions): AsyncIterable<AgentRunEvent>;
  /** Release what the backend holds (sessions, processes). Idempotent. */
  dispose(): Promise<void>;
}
