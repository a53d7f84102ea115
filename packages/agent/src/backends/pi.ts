import { mkdirSync } from "node:fs";
import { join } from "node:path";
import type { AgentSession, AgentSessionEvent, ToolDefinition } from "@earendil-works/pi-coding-agent";
import type { AgentRunEvent, AgentRuntime, AgentTool, StopReason, Usage } from "../runtime.js";
import { EventChannel } from "./event-channel.js";

/** A model provider as the gateway's `models.providers` describes it. */
export interface PiProvider {
  /** The provider's name in pi's registry (`models.providers.<name>`). */
  name: string;
  baseUrl: string;
  /** pi's API kind. @default "openai-completions" */
  api?: "openai-completions" | "openai-responses" | "anthropic-messages" | "google-generative-ai";
  apiKey?: string;
  models: Array<{ id: string; name?: string; contextWindow?: number; maxTokens?: number; reasoning?: boolean }>;
}

/** Options of the pi backend. */
export interface PiBackendOptions {
  /** Where pi keeps its sessions and settings (never the user's `~/.pi`): `<stateDir>/agents/<id>/pi`. */
  dataDir: string;
  /** The agent's working directory. */
  workspace: string;
  provider: PiProvider;
  /** A model id of `provider`. */
  model: string;
  systemPrompt?: string;
  /** @default "off" */
  thinkingLevel?: "off" | "minimal" | "low" | "medium" | "high";
  /** Live pi sessions kept; the least recently used idle one is closed beyond. @default 32 */
  maxLiveSessions?: number;
  /** A session unused this long is closed (it reopens from its file). @default 1800000 */
  idleCloseMs?: number;
}

type PiModule = typeof import("@earendil-works/pi-coding-agent");

interface Live {
  session: AgentSession;
  sessionId: string;
  lastUsed: number;
  busy: boolean;
  /** Steered inputs not yet seen by the model, in order. */
  pendingSteers: string[];
  /** Where the current run's events go. */
  sink: ((event: AgentSessionEvent) => void) | undefined;
}

const DEFAULT_SYSTEM_PROMPT =
  "You are a personal assistant reached through a messaging gateway. Answer concisely; plain text unless asked.";

/**
 * The pi coding agent, embedded: one long-lived pi session per active session key (LRU, closed when idle, reopened
 * from its file under `dataDir`), the model from the gateway's config through pi's provider registry, pi's built-in
 * tools off (some download binaries) and the gateway's tools offered instead. Messages steered into a running turn
 * are delivered by pi at the next model boundary; `input_start` says which input the following answer belongs to.
 * The pi library (~0.5 s, ~130 MB) loads on the first run, not before.
 */
export function createPiBackend(options: PiBackendOptions): AgentRuntime {
  let loading: Promise<PiModule> | undefined;
  const live = new Map<string, Live>();
  const maxLive = options.maxLiveSessions ?? 32;
  const idleCloseMs = options.idleCloseMs ?? 30 * 60_000;
  const sessionsDir = join(options.dataDir, "sessions");
  const agentDir = join(options.dataDir, "agent");
  let sweeper: NodeJS.Timeout | undefined;

  const load = (): Promise<PiModule> => {
    loading ??= import("@earendil-works/pi-coding-agent").catch((error: NodeJS.ErrnoException) => {
      loading = undefined;
      throw error.code === "ERR_MODULE_NOT_FOUND"
        ? new Error(
            "the pi backend needs @earendil-works/pi-coding-agent: npm install @earendil-works/pi-coding-agent@0.74.2 (or set agents.defaults.backend to openai)",
          )
        : error;
    });
    return loading;
  };

  const close = (key: string) => {
    const entry = live.get(key);
    if (!entry) return;
    live.delete(key);
    entry.session.dispose();
  };

  const sweep = () => {
    const now = Date.now();
    for (const [key, entry] of live) if (!entry.busy && now - entry.lastUsed > idleCloseMs) close(key);
    if (live.size === 0 && sweeper) {
      clearInterval(sweeper);
      sweeper = undefined;
    }
  };

  async function open(sessionKey: string, sessionId: string, tools: readonly AgentTool[]): Promise<Live> {
    const existing = live.get(sessionKey);
    if (existing && existing.sessionId === sessionId) {
      live.delete(sessionKey);
      live.set(sessionKey, existing); // most recently used last
      return existing;
    }
    if (existing) close(sessionKey); // the session was reset: a new file
    const pi = await load();
    mkdirSync(sessionsDir, { recursive: true, mode: 0o700 });
    mkdirSync(options.workspace, { recursive: true });
    const authStorage = pi.AuthStorage.inMemory();
    const provider = options.provider;
    if (provider.apiKey) authStorage.setRuntimeApiKey(provider.name, provider.apiKey);
    const modelRegistry = pi.ModelRegistry.inMemory(authStorage);
    modelRegistry.registerProvider(provider.name, {
      baseUrl: provider.baseUrl,
      api: provider.api ?? "openai-completions",
      // pi wants a key for every provider; local servers (Ollama, vLLM) take any.
      apiKey: provider.apiKey ?? "none",
      models: provider.models.map((model) => ({
        id: model.id,
        name: model.name ?? model.id,
        reasoning: model.reasoning ?? false,
        input: ["text"],
        cost: { input: 0, output: 0, cacheRead: 0, cacheWrite: 0 },
        contextWindow: model.contextWindow ?? 128_000,
        maxTokens: model.maxTokens ?? 8_192,
      })),
    });
    const model = modelRegistry.find(provider.name, options.model);
    if (!model) throw new Error(`model "${options.model}" is not in models.providers.${provider.name}.models`);
    const systemPrompt = options.systemPrompt ?? DEFAULT_SYSTEM_PROMPT;
    const { session } = await pi.createAgentSession({
      cwd: options.workspace,
      agentDir,
      authStorage,
      modelRegistry,
      model,
      thinkingLevel: options.thinkingLevel ?? "off",
      noTools: "builtin",
      customTools: tools.map((tool) => toPiTool(tool, sessionKey)),
      resourceLoader: {
        getExtensions: () => ({ extensions: [], errors: [], runtime: pi.createExtensionRuntime() }),
        getSkills: () => ({ skills: [], diagnostics: [] }),
        getPrompts: () => ({ prompts: [], diagnostics: [] }),
        getThemes: () => ({ themes: [], diagnostics: [] }),
        getAgentsFiles: () => ({ agentsFiles: [] }),
        getSystemPrompt: () => systemPrompt,
        getAppendSystemPrompt: () => [],
        extendResources: () => {},
        reload: async () => {},
      },
      sessionManager: pi.SessionManager.open(join(sessionsDir, `${sessionId}.jsonl`), sessionsDir, options.workspace),
      // The gateway retries nothing behind the user's back and never compacts without being asked.
      settingsManager: pi.SettingsManager.inMemory({ retry: { enabled: false }, compaction: { enabled: false } }),
    });
    const entry: Live = { session, sessionId, lastUsed: Date.now(), busy: false, pendingSteers: [], sink: undefined };
    session.subscribe((event) => entry.sink?.(event));
    live.set(sessionKey, entry);
    for (const [key, candidate] of live) {
      if (live.size <= maxLive) break;
      if (!candidate.busy && candidate !== entry) close(key);
    }
    sweeper ??= setInterval(sweep, Math.min(idleCloseMs, 60_000));
    sweeper.unref();
    return entry;
  }

  return {
    name: "pi",
    capabilities: { streaming: true, tools: true, steer: true, images: false },
    async *run(sessionKey, input, { runId, signal, tools = [], sessionId }): AsyncIterable<AgentRunEvent> {
      yield { type: "run_start", runId };
      let entry: Live;
      try {
        entry = await open(sessionKey, sessionId ?? sessionKey.replace(/[^\w.-]/g, "_"), tools);
      } catch (error) {
        yield { type: "run_end", runId, stopReason: "error", text: "", error: `pi: ${(error as Error).message}` };
        return;
      }
      const events = new EventChannel<AgentRunEvent>();
      let userMessages = 0;
      let text = "";
      let last: { stopReason?: string; errorMessage?: string } | undefined;
      const usage: Usage = { inputTokens: 0, outputTokens: 0 };
      entry.busy = true;
      entry.sink = (event) => {
        switch (event.type) {
          case "message_start":
            // The first user message is this run's input; later ones are steered inputs, delivered in order.
            if (event.message.role === "user" && userMessages++ > 0) {
              const steered = entry.pendingSteers.shift();
              if (steered !== undefined) {
                text = "";
                events.push({ type: "input_start", inputId: steered });
              }
            }
            break;
          case "message_update": {
            const update = event.assistantMessageEvent;
            if (update.type === "text_delta") {
              text += update.delta;
              events.push({ type: "text_delta", text: update.delta });
            } else if (update.type === "thinking_delta") events.push({ type: "thinking_delta", text: update.delta });
            break;
          }
          case "message_end":
            if (event.message.role === "assistant") {
              const message = event.message as {
                stopReason?: string;
                errorMessage?: string;
                usage?: { input?: number; output?: number };
              };
              last = message;
              usage.inputTokens += message.usage?.input ?? 0;
              usage.outputTokens += message.usage?.output ?? 0;
              events.push({ type: "message_end", text });
            }
            break;
          case "tool_execution_start":
            events.push({ type: "tool_start", toolCallId: event.toolCallId, name: event.toolName, input: event.args });
            break;
          case "tool_execution_end":
            events.push({
              type: "tool_end",
              toolCallId: event.toolCallId,
              name: event.toolName,
              output: resultText(event.result),
              isError: event.isError,
            });
            break;
          default:
            break;
        }
      };
      const onAbort = () => void entry.session.abort();
      signal.addEventListener("abort", onAbort, { once: true });
      let failure: string | undefined;
      const prompting = entry.session
        .prompt(input)
        .catch((error: Error) => {
          failure = error.message;
        })
        .finally(() => events.end());
      try {
        for await (const event of events) yield event;
        await prompting;
      } finally {
        signal.removeEventListener("abort", onAbort);
        entry.sink = undefined;
        entry.busy = false;
        entry.lastUsed = Date.now();
        // Steered inputs the run ended before delivering: the lanes run them next, so pi must not keep them too.
        entry.session.clearQueue();
        entry.pendingSteers.length = 0;
      }
      // pi reports errors on the last assistant message instead of throwing.
      let stopReason: StopReason = mapStopReason(last?.stopReason);
      let error = failure ?? (stopReason === "error" ? (last?.errorMessage ?? "the model call failed") : undefined);
      if (failure) stopReason = "error";
      if (signal.aborted) {
        stopReason = "aborted";
        error = undefined;
      }
      yield {
        type: "run_end",
        runId,
        stopReason,
        text,
        ...(error ? { error: `pi: ${error}` } : {}),
        ...(usage.inputTokens + usage.outputTokens > 0 ? { usage } : {}),
      };
    },
    steer(sessionKey, input, inputId) {
      const entry = live.get(sessionKey);
      if (!entry?.busy) return false;
      entry.pendingSteers.push(inputId);
      entry.session.steer(input).catch(() => {
        // The run ended first: the lanes run the undelivered input next.
      });
      return true;
    },
    async forget(sessionKey) {
      close(sessionKey);
    },
    async dispose() {
      for (const key of [...live.keys()]) close(key);
      if (sweeper) clearInterval(sweeper);
      sweeper = undefined;
    },
  };
}

function mapStopReason(reason: string | undefined): StopReason {
  if (reason === "length") return "length";
  if (reason === "error") return "error";
  if (reason === "aborted") return "aborted";
  return "stop";
}

function resultText(result: unknown): string {
  const content = (result as { content?: Array<{ type: string; text?: string }> } | undefined)?.content;
  return Array.isArray(content) ? content.map((part) => part.text ?? "").join("") : JSON.stringify(result ?? null);
}

/** A gateway tool as pi's custom tool. */
function toPiTool(tool: AgentTool, sessionKey: string): ToolDefinition {
  return {
    name: tool.name,
    label: tool.name,
    description: tool.description,
    parameters: tool.parameters as unknown as ToolDefinition["parameters"],
    async execute(_toolCallId, params, signal) {
      const output = await tool.execute(params as Record<string, unknown>, {
        sessionKey,
        signal: signal ?? new AbortController().signal,
      });
      return { content: [{ type: "text", text: output }], details: {} };
    },
  };
}
