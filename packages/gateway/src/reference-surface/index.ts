// What the reference's clients (its CLI, its Control UI) need of a gateway besides the core methods: agents, models
// and tools; live sessions; the system screens; the agent's part of health and of `hello-ok`.
import type { AgentService, AgentsConfigSection, ModelsConfigSection, SelectedRuntime } from "@gateway/agent";
import type { HeartbeatOptions } from "@gateway/cron";
import type { GatewayServer } from "@gateway/server";
import { registerAgentCatalog } from "./agent-catalog.js";
import { agentHealth, agentStatus, sessionDefaults } from "./agent-health.js";
import type { SessionEvents } from "./session-events.js";
import { registerSystemMethods } from "./system-methods.js";

export { SessionEvents } from "./session-events.js";

/** What the surface reads, live. */
export interface ReferenceSurfaceSources {
  agent: AgentService;
  sessionEvents: SessionEvents;
  stateDir: string;
  config(): { models?: ModelsConfigSection; agents?: AgentsConfigSection; session?: { dmScope?: string } };
  selected(): SelectedRuntime;
  heartbeat(): HeartbeatOptions;
  workspace(): string;
}

/** Register the methods, the health section and the session defaults. */
export function attachReferenceSurface(server: GatewayServer, sources: ReferenceSurfaceSources): void {
  const { agent } = sources;
  sources.sessionEvents.attach(agent);
  registerAgentCatalog(server, sources);
  registerSystemMethods(server, {
    agent,
    stateDir: sources.stateDir,
    maxConcurrentRuns: () => sources.selected().maxConcurrentRuns ?? 4,
    workspace: sources.workspace,
  });
  server.contributeHealth("agent", () => agentHealth(agent, sources.heartbeat));
  server.contributeStatus(() => agentStatus(agent, sources.heartbeat));
  server.setSessionDefaults(() => sessionDefaults(agent, () => sources.selected().backend !== "echo"));
}

/** The context window of a configured model, when the config gives one. */
export function contextWindowOf(
  models: ModelsConfigSection | undefined,
  target: { provider: string; model: string } | undefined,
): number | undefined {
  if (!target) return undefined;
  return models?.providers?.[target.provider]?.models.find((model) => model.id === target.model)?.contextWindow;
}
