// @gateway/agent — the public surface.
export type { AgentHost } from "./agent-host.js";
export { AgentService, type AgentServiceOptions, type SendOptions } from "./agent-service.js";
export { childEnvironment } from "./backends/child-environment.js";
export { CLI_PRESETS, type CliBackendOptions, createCliBackend } from "./backends/cli.js";
export { createEchoBackend, type EchoBackendOptions } from "./backends/echo.js";
export { createOpenAIBackend, type OpenAIBackendOptions } from "./backends/openai.js";
export { createPiBackend, type PiBackendOptions, type PiProvider } from "./backends/pi.js";
export type { ChannelMessageSource } from "./channel-replies.js";
export {
  AgentsConfigSection,
  agentConfigSections,
  createRuntimeFromConfig,
  ModelsConfigSection,
  NO_MODEL_WARNING,
  type RuntimeContext,
  type SelectedRuntime,
  SessionConfigSection,
} from "./config.js";
export {
  describeModelError,
  type ModelTarget,
  modelErrorFix,
  observeRuntime,
  type RunObservation,
  type RunObserver,
} from "./observe-runtime.js";
export {
  type ChatCompletionsOptions,
  type ChatCompletionsRoute,
  chatCompletionsRoutes,
  SESSION_HEADER,
} from "./openai-http.js";
export type { ResetPolicy } from "./reset-policy.js";
export type {
  AgentCapabilities,
  AgentRunEvent,
  AgentRuntime,
  AgentTool,
  ConversationMessage,
  RunOptions,
  StopReason,
  Usage,
} from "./runtime.js";
export { cronSessionKey, type DmScope, type MessageSource, sessionKeyFor } from "./session-keys.js";
export {
  type QueueMode,
  type RunOutcome,
  SessionLanes,
  type SessionLanesOptions,
  type Submission,
  type SubmitOptions,
} from "./session-lanes.js";
export {
  type ForwardedEvent,
  type ForwardedRun,
  type ForwardedSend,
  SESSION_MOVED,
  type SessionPlacement,
} from "./session-placement.js";
export type { SessionChanges, SessionStorage } from "./session-storage.js";
export {
  type AppendListener,
  carriedOver,
  type NewTranscriptMessage,
  newSessionEntry,
  type SessionEntry,
  SessionEntrySchema,
  type SessionOrigin,
  SessionStore,
  type TranscriptMessage,
} from "./session-store.js";
export { wireMessage } from "./session-views.js";
