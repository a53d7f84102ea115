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
  /** A message steered into the running turn was handed to the model: what follows answers it. */
  | { type: "input_start"; inputId: string }
  | { type: "run_end"; runId: string; stopReason: StopReason; text: string; error?: string; usage?: Usage };

/** What a backend can do; the lanes pick queue behaviour from it. */
export interface AgentCapabilities {
  streaming: boolean;
  tools: boolean;
  /** Inject a message into a running turn (otherwise `steer` falls back to `followup`). */
  steer: boolean;
  images: boolean;
}

/** A tool the model may call. Backends without tool support ignore it. */
export interface AgentTool {
  name: string;
  description: string;
  /** JSON Schema of the arguments (a TypeBox schema is one). */
  parameters: Record<string, unknown>;
  /** Run the tool; the returned text goes back to the model. Throwing reports an error result to the model. */
  execute(args: Record<string, unknown>, context: { sessionKey: string; signal: AbortSignal }): Promise<string>;
}

/** Options of one run. */
export interface RunOptions {
  runId: string;
  signal: AbortSignal;
  /** The gateway's id of the session (a reset starts a new one): backends keying their own files use it. */
  sessionId?: string;
  /** Tools of this run (the gateway's own: session history, sending a message…). */
  tools?: readonly AgentTool[];
  /**
   * The session's earlier messages from the gateway's transcript, oldest first (without this run's input), for
   * backends that keep no conversation of their own across restarts.
   */
  history?: () => Promise<ConversationMessage[]>;
}

/** A message of a session's conversation, as the gateway's transcript keeps it. */
export interface ConversationMessage {
  role: "user" | "assistant";
  text: string;
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
  /**
   * Hand a message to the session's running turn (only when `capabilities.steer`). The backend later yields
   * `input_start` with `inputId` when the model gets it. Returns false when nothing is running to steer.
   */
  steer?(sessionKey: string, input: string, inputId: string): boolean;
  /** Forget what the backend keeps for a session (its conversation) — on reset and delete. */
  forget?(sessionKey: string): Promise<void>;
  /** Release what the backend holds (sessions, processes). Idempotent. */
  dispose(): Promise<void>;
}
