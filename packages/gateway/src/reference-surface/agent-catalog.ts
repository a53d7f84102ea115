// Agents, models and tools as the reference's clients read them (`agents.list`, `agent.identity.get`, `models.list`,
// `tools.catalog`, `chat.metadata`), from the config and the running agent: one agent, `main`; the models of
// `models.providers`; the tools the agent is really offered.
import type { AgentService, AgentsConfigSection, ModelsConfigSection, SelectedRuntime } from "@gateway/agent";
import type { AgentIdentityResult, ChatMetadataResult, ModelChoice, ToolsCatalogResult } from "@gateway/protocol";
import { invalidRequest } from "@gateway/protocol";
import type { GatewayServer } from "@gateway/server";

/** What the catalog reads, live (the config and the backend change with config edits). */
export interface AgentCatalogSources {
  agent: AgentService;
  config(): { models?: ModelsConfigSection; agents?: AgentsConfigSection; session?: { dmScope?: string } };
  selected(): SelectedRuntime;
  workspace(): string;
}

/** Register `agents.list`, `agent.identity.get`, `models.list`, `tools.catalog` and `chat.metadata`. */
export function registerAgentCatalog(server: GatewayServer, sources: AgentCatalogSources): void {
  const { agent } = sources;
  const checkAgent = (agentId: string | undefined) => {
    if (agentId && agentId !== agent.agentId)
      throw invalidRequest(`unknown agent "${agentId}": this gateway runs one agent, "${agent.agentId}"`);
  };
  const identity = (): AgentIdentityResult => ({
    agentId: agent.agentId,
    name: agent.agentId,
    nameSource: "default",
    avatarStatus: "none",
  });

  server.registerMethod("agents.list", () => {
    const model = defaultModelRef(sources);
    return {
      defaultId: agent.agentId,
      ownership: "sole" as const,
      mainKey: "main",
      // Sessions are named by key (`agent:main:main` and per chat); the reference's "global" scope names one session "global".
      scope: "per-sender" as const,
      agents: [
        {
          id: agent.agentId,
          kind: "agent" as const,
          name: agent.agentId,
          workspace: sources.workspace(),
          ...(model ? { model: { primary: model } } : {}),
        },
      ],
    };
  });

  server.registerMethod("agent.identity.get", (params) => {
    checkAgent(params.agentId);
    return identity();
  });

  server.registerMethod("models.list", (params) => {
    checkAgent(params.agentId);
    return { models: configuredModels(sources) };
  });

  server.registerMethod("tools.catalog", (params): ToolsCatalogResult => {
    checkAgent(params.agentId);
    // Tools only reach a backend that can call them (the echo and CLI backends cannot).
    const tools = agent.lanes.runtime.capabilities.tools ? agent.tools : [];
    return {
      agentId: agent.agentId,
      profiles: [{ id: "full", label: "Full" }],
      groups:
        tools.length === 0
          ? []
          : [
              {
                id: "gateway",
                label: "Gateway",
                source: "core",
                tools: tools.map((tool) => ({
                  id: tool.name,
                  label: tool.name,
                  description: tool.description,
                  source: "core" as const,
                  defaultProfiles: ["full" as const],
                })),
              },
            ],
    };
  });

  server.registerMethod("chat.metadata", (params): ChatMetadataResult => {
    checkAgent(params.agentId);
    return {
      agentId: agent.agentId,
      ...(params.sessionKey ? { sessionKey: params.sessionKey } : {}),
      identity: identity(),
      models: configuredModels(sources),
      commands: [
        { name: "/new", description: "start a new session (the old transcript is kept)" },
        { name: "/reset", description: "start a new session (the old transcript is kept)" },
      ],
      contextTokens: agent.sessionDefaults().contextTokens,
    };
  });
}

/** `provider/model` of the model runs use, when one is configured. */
function defaultModelRef(sources: AgentCatalogSources): string | undefined {
  const target = sources.selected().model;
  return target ? `${target.provider}/${target.model}` : undefined;
}

/** Every model of `models.providers` (and the environment's model when that is what runs), the running one `default`. */
function configuredModels(sources: AgentCatalogSources): ModelChoice[] {
  const running = sources.selected().model;
  const providers = sources.config().models?.providers ?? {};
  const models: ModelChoice[] = Object.entries(providers).flatMap(([provider, section]) =>
    section.models.map((model) => ({
      id: model.id,
      name: model.name ?? model.id,
      provider,
      available: true,
      ...(model.contextWindow ? { contextWindow: model.contextWindow } : {}),
      ...(model.reasoning !== undefined ? { reasoning: model.reasoning } : {}),
      ...(running?.provider === provider && running.model === model.id ? { tags: ["default"] } : {}),
    })),
  );
  if (running && !models.some((model) => model.provider === running.provider && model.id === running.model))
    models.push({
      id: running.model,
      name: running.model,
      provider: running.provider,
      available: true,
      tags: ["default"],
    });
  return models;
}
