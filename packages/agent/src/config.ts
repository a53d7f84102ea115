import { join } from "node:path";
import { type Static, Type } from "@sinclair/typebox";
import { CLI_PRESETS, createCliBackend } from "./backends/cli.js";
import { createEchoBackend } from "./backends/echo.js";
import { createOpenAIBackend } from "./backends/openai.js";
import { createPiBackend, type PiProvider } from "./backends/pi.js";
import { type ModelTarget, observeRuntime, type RunObserver } from "./observe-runtime.js";
import type { AgentRuntime } from "./runtime.js";
import type { QueueMode } from "./session-lanes.js";

const QueueModeSchema = Type.Union(
  [Type.Literal("steer"), Type.Literal("followup"), Type.Literal("collect"), Type.Literal("interrupt")],
  { description: "What a message does while its session is busy" },
);

/** The `models` section: where models come from. */
export const ModelsConfigSection = Type.Object(
  {
    providers: Type.Optional(
      Type.Record(
        Type.String({ pattern: "^[a-z0-9][a-z0-9_-]*$" }),
        Type.Object(
          {
            baseUrl: Type.String({
              minLength: 1,
              description: "e.g. https://api.openai.com/v1, http://127.0.0.1:11434/v1",
            }),
            api: Type.Optional(
              Type.Union(
                [
                  Type.Literal("openai-completions"),
                  Type.Literal("openai-responses"),
                  Type.Literal("anthropic-messages"),
                  Type.Literal("google-generative-ai"),
                ],
                { default: "openai-completions" },
              ),
            ),
            apiKey: Type.Optional(Type.String({ minLength: 1, description: "Secret; use ${ENV_VAR}" })),
            models: Type.Array(
              Type.Object(
                {
                  id: Type.String({ minLength: 1 }),
                  name: Type.Optional(Type.String({ minLength: 1 })),
                  contextWindow: Type.Optional(Type.Integer({ minimum: 1 })),
                  maxTokens: Type.Optional(Type.Integer({ minimum: 1 })),
                  reasoning: Type.Optional(Type.Boolean()),
                },
                { additionalProperties: false },
              ),
              { minItems: 1 },
            ),
          },
          { additionalProperties: false },
        ),
      ),
    ),
  },
  { additionalProperties: false },
);
export type ModelsConfigSection = Static<typeof ModelsConfigSection>;

/** The `agents` section: how the agent runs. */
export const AgentsConfigSection = Type.Object(
  {
    defaults: Type.Optional(
      Type.Object(
        {
          backend: Type.Optional(
            Type.Union(
              [
                Type.Literal("auto"),
                Type.Literal("pi"),
                Type.Literal("openai"),
                Type.Literal("cli"),
                Type.Literal("echo"),
              ],
              { default: "auto", description: "auto: pi when a model is configured, else echo" },
            ),
          ),
          model: Type.Optional(
            Type.String({ pattern: "^[a-z0-9][a-z0-9_-]*/.+$", description: "provider/model from models.providers" }),
          ),
          systemPrompt: Type.Optional(Type.String({ minLength: 1 })),
          thinkingLevel: Type.Optional(
            Type.Union(
              ["off", "minimal", "low", "medium", "high"].map((level) => Type.Literal(level)),
              {
                default: "off",
              },
            ),
          ),
          workspace: Type.Optional(
            Type.String({ minLength: 1, description: "Default <stateDir>/agents/main/workspace" }),
          ),
          queueMode: Type.Optional(QueueModeSchema),
          maxConcurrentRuns: Type.Optional(Type.Integer({ minimum: 1, maximum: 64, default: 4 })),
          timeoutSeconds: Type.Optional(Type.Integer({ minimum: 1, maximum: 86_400, default: 600 })),
          cli: Type.Optional(
            Type.Object(
              {
                preset: Type.Optional(Type.Union([Type.Literal("pi"), Type.Literal("claude"), Type.Literal("codex")])),
                command: Type.Optional(Type.String({ minLength: 1 })),
                args: Type.Optional(Type.Array(Type.String())),
                resumeArgs: Type.Optional(Type.Array(Type.String())),
                output: Type.Optional(Type.Union([Type.Literal("json"), Type.Literal("jsonl"), Type.Literal("text")])),
                input: Type.Optional(Type.Union([Type.Literal("arg"), Type.Literal("stdin")])),
                env: Type.Optional(Type.Record(Type.String(), Type.String())),
              },
              { additionalProperties: false },
            ),
          ),
        },
        { additionalProperties: false },
      ),
    ),
  },
  { additionalProperties: false },
);
export type AgentsConfigSection = Static<typeof AgentsConfigSection>;

/** The `session` section: how messages map to sessions and when sessions start over. */
export const SessionConfigSection = Type.Object(
  {
    dmScope: Type.Optional(
      Type.Union([Type.Literal("main"), Type.Literal("per-peer"), Type.Literal("per-channel-peer")], {
        default: "main",
        description: "Direct messages share the main session, or get one per peer / per channel and peer",
      }),
    ),
    reset: Type.Optional(
      Type.Object(
        {
          mode: Type.Union([Type.Literal("off"), Type.Literal("daily"), Type.Literal("idle")], { default: "off" }),
          atHour: Type.Optional(Type.Integer({ minimum: 0, maximum: 23, default: 4 })),
          idleMinutes: Type.Optional(Type.Integer({ minimum: 1, default: 240 })),
        },
        { additionalProperties: false },
      ),
    ),
    resetTriggers: Type.Optional(Type.Array(Type.String({ pattern: "^/\\S+$" }), { default: ["/new", "/reset"] })),
  },
  { additionalProperties: false },
);
export type SessionConfigSection = Static<typeof SessionConfigSection>;

/** The sections this package owns (the app composes them into the whole config schema). */
export const agentConfigSections = {
  models: ModelsConfigSection,
  agents: AgentsConfigSection,
  session: SessionConfigSection,
} as const;

/** The runtime the config asks for, and how to describe it. */
export interface SelectedRuntime {
  runtime: AgentRuntime;
  backend: "pi" | "openai" | "cli" | "echo";
  /** One line for the start banner and `status`: what answers. */
  summary: string;
  /** Set when no model is configured: what to do about it. */
  warning?: string;
  /** The model the backend calls (pi, openai). */
  model?: ModelTarget;
  queueMode?: QueueMode;
  maxConcurrentRuns?: number;
  runTimeoutMs: number;
}

export const NO_MODEL_WARNING =
  "no model configured — replies come from the echo agent (it repeats each message): set models.providers and agents.defaults.model in the config, or OPENAI_API_KEY (OPENAI_BASE_URL for Ollama/vLLM/LiteLLM, GATEWAY_MODEL for the model)";

/** What to run to get the pi agent library next to the gateway. */
export const PI_MISSING =
  'agents.defaults.backend is "pi" but the pi agent library is not installed: npm install -g @earendil-works/pi-coding-agent@0.74.2 (next to a global gateway install; in a clone it is already there), or set agents.defaults.backend to "openai"';

/** Whether the pi agent library can be loaded from here (resolved without loading it). */
function isPiInstalled(): boolean {
  try {
    import.meta.resolve("@earendil-works/pi-coding-agent");
    return true;
  } catch {
    return false;
  }
}

/** What builds the runtime besides the config: paths, and what the app found in its environment. */
export interface RuntimeContext {
  stateDir: string;
  /** @default "main" */
  agentId?: string;
  /** The model to use when the config names none (the app maps OPENAI_API_KEY / OPENAI_BASE_URL / GATEWAY_MODEL). */
  fallbackModel?: { provider: PiProvider; model: string };
  /** The environment an agent CLI's allowlisted basics (PATH, HOME, locale) come from. @default {} */
  parentEnv?: Readonly<Record<string, string | undefined>>;
  /** Whether the pi library is installed. @default resolved from this module */
  piInstalled?: () => boolean;
  /** Told of every finished run (logs, status, metrics). */
  observe?: RunObserver;
}

/**
 * Build the runtime from the `models` and `agents` sections (and, when they name no model, the fallback model).
 * Throws with a message naming the config path when the config cannot work.
 */
export function createRuntimeFromConfig(
  config: { models?: ModelsConfigSection; agents?: AgentsConfigSection },
  context: RuntimeContext,
): SelectedRuntime {
  const selected = selectRuntime(config, context);
  return {
    ...selected,
    runtime: observeRuntime(
      selected.runtime,
      { backend: selected.backend, ...(selected.model ? { model: selected.model } : {}) },
      context.observe,
    ),
  };
}

function selectRuntime(
  config: { models?: ModelsConfigSection; agents?: AgentsConfigSection },
  context: RuntimeContext,
): SelectedRuntime {
  const agentId = context.agentId ?? "main";
  const defaults = config.agents?.defaults ?? {};
  const agentDir = join(context.stateDir, "agents", agentId);
  const workspace = defaults.workspace ?? join(agentDir, "workspace");
  const runTimeoutMs = (defaults.timeoutSeconds ?? 600) * 1000;
  const common = {
    runTimeoutMs,
    ...(defaults.queueMode ? { queueMode: defaults.queueMode } : {}),
    ...(defaults.maxConcurrentRuns ? { maxConcurrentRuns: defaults.maxConcurrentRuns } : {}),
  };
  const wanted = defaults.backend ?? "auto";

  if (wanted === "echo")
    return { runtime: createEchoBackend(), backend: "echo", summary: "echo (repeats each message)", ...common };
  if (wanted === "cli") {
    const cli = defaults.cli;
    const preset = cli?.preset ? CLI_PRESETS[cli.preset] : undefined;
    const command = cli?.command ?? preset?.command;
    const args = cli?.args ?? preset?.args;
    if (!command || !args)
      throw new Error('agents.defaults.backend is "cli" but agents.defaults.cli has no preset and no command/args');
    const resumeArgs = cli?.resumeArgs ?? preset?.resumeArgs;
    return {
      runtime: createCliBackend({
        command,
        args,
        ...(resumeArgs ? { resumeArgs } : {}),
        output: cli?.output ?? preset?.output ?? "text",
        input: cli?.input ?? preset?.input ?? "arg",
        dataDir: join(agentDir, "cli"),
        cwd: workspace,
        ...(cli?.env ? { env: cli.env } : {}),
        ...(context.parentEnv ? { parentEnv: context.parentEnv } : {}),
        timeoutMs: runTimeoutMs,
      }),
      backend: "cli",
      summary: `cli: ${command}${cli?.preset ? ` (preset ${cli.preset})` : ""}`,
      ...common,
    };
  }

  // The model: agents.defaults.model from models.providers, else the environment.
  let provider: PiProvider | undefined;
  let modelId: string | undefined;
  if (defaults.model) {
    const slash = defaults.model.indexOf("/");
    const name = defaults.model.slice(0, slash);
    modelId = defaults.model.slice(slash + 1);
    const configured = config.models?.providers?.[name];
    if (!configured)
      throw new Error(`agents.defaults.model is "${defaults.model}" but models.providers.${name} is not configured`);
    if (!configured.models.some((model) => model.id === modelId))
      throw new Error(
        `agents.defaults.model is "${defaults.model}" but models.providers.${name}.models has no id "${modelId}" (it has ${configured.models.map((model) => model.id).join(", ")})`,
      );
    provider = { name, ...configured };
  } else if (context.fallbackModel) {
    modelId = context.fallbackModel.model;
    provider = context.fallbackModel.provider;
  }
  if (!provider || !modelId) {
    if (wanted !== "auto")
      throw new Error(
        `agents.defaults.backend is "${wanted}" but no model is configured: set agents.defaults.model (and models.providers), or OPENAI_API_KEY`,
      );
    return {
      runtime: createEchoBackend({ noticeOnce: `(${NO_MODEL_WARNING})\n\n` }),
      backend: "echo",
      summary: "echo — no model configured",
      warning: NO_MODEL_WARNING,
      ...common,
    };
  }
  const where = `${provider.name}/${modelId} at ${provider.baseUrl}`;
  const model: ModelTarget = { provider: provider.name, model: modelId, baseUrl: provider.baseUrl };
  // pi is an optional install (~130 MB): without it, "auto" answers through the OpenAI-compatible backend, and an
  // explicit "pi" says the one command that installs it.
  const piInstalled = (context.piInstalled ?? isPiInstalled)();
  if (wanted === "pi" && !piInstalled) throw new Error(PI_MISSING);
  const useOpenAI = wanted === "openai" || (wanted === "auto" && !piInstalled);
  if (useOpenAI) {
    if (provider.api && provider.api !== "openai-completions")
      throw new Error(
        `the openai backend speaks openai-completions; models.providers.${provider.name}.api is ${provider.api}`,
      );
    return {
      runtime: createOpenAIBackend({
        baseUrl: provider.baseUrl,
        model: modelId,
        ...(provider.apiKey ? { apiKey: provider.apiKey } : {}),
        ...(defaults.systemPrompt ? { systemPrompt: defaults.systemPrompt } : {}),
      }),
      backend: "openai",
      summary: `openai-compatible: ${where}${wanted === "auto" ? " (pi is not installed: no tools; install it for the pi agent)" : ""}`,
      model,
      ...common,
    };
  }
  return {
    runtime: createPiBackend({
      dataDir: join(agentDir, "pi"),
      workspace,
      provider,
      model: modelId,
      ...(defaults.systemPrompt ? { systemPrompt: defaults.systemPrompt } : {}),
      ...(defaults.thinkingLevel ? { thinkingLevel: defaults.thinkingLevel as "off" } : {}),
    }),
    backend: "pi",
    summary: `pi: ${where}`,
    model,
    ...common,
  };
}
