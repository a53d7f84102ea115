// @gateway/agent — the public surface.
export { type AgentHost, AgentService, type AgentServiceOptions } from "./agent-service.js";
export { createEchoBackend, type EchoBackendOptions } from "./backends/echo.js";
export { createOpenAIBackend, type OpenAIBackendOptions } from "./backends/openai.js";
export type { AgentCapabilities, AgentRunEvent, AgentRuntime, RunOptions, StopReason, Usage } from "./runtime.js";
export {
  type QueueMode,
  type RunOutcome,
  SessionLanes,
  type SessionLanesOptions,
  type Submission,
  type SubmitOptions,
} from "./session-lanes.js";
export { type SessionEntry, type SessionOrigin, SessionStore, type TranscriptMessage } from "./session-store.js";
