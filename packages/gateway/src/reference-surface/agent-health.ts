// The agent's part of the health snapshot, in the reference's shape (`defaultAgentId`, `heartbeatSeconds`, `agents`,
// `sessions`): what `openclaw health` and the Control UI's overview read.
import type { AgentService } from "@gateway/agent";
import { DEFAULT_HEARTBEAT_PROMPT, type HeartbeatOptions } from "@gateway/cron";
import type { HealthSnapshot, SessionDefaults, StatusResult } from "@gateway/protocol";

const RECENT_SESSIONS = 5;

/** `defaultAgentId`, `heartbeatSeconds`, `agents` and `sessions` of the health snapshot. */
export function agentHealth(agent: AgentService, heartbeat: () => HeartbeatOptions): Partial<HealthSnapshot> {
  const now = Date.now();
  const entries = agent.store.list();
  const sessions = {
    path: agent.store.indexPath,
    count: entries.length,
    recent: entries.slice(0, RECENT_SESSIONS).map((entry) => ({
      key: entry.key,
      updatedAt: entry.updatedAt,
      age: Math.max(0, now - entry.updatedAt),
    })),
  };
  const options = heartbeat();
  const target = options.target ?? "last";
  return {
    defaultAgentId: agent.agentId,
    heartbeatSeconds: Math.round(options.everyMs / 1000),
    agents: [
      {
        agentId: agent.agentId,
        isDefault: true,
        heartbeat: {
          enabled: options.everyMs > 0,
          every: options.everyMs > 0 ? `${Math.round(options.everyMs / 60_000)}m` : "off",
          everyMs: options.everyMs > 0 ? options.everyMs : null,
          prompt: options.prompt ?? DEFAULT_HEARTBEAT_PROMPT,
          target: typeof target === "string" ? target : target.channel,
          ackMaxChars: options.ackMaxChars ?? 300,
        },
        sessions,
      },
    ],
    sessions,
  };
}

/** `hello-ok.snapshot.sessionDefaults`: the one agent and its main session. */
export function sessionDefaults(agent: AgentService, modelConfigured: () => boolean): SessionDefaults {
  return {
    defaultAgentId: agent.agentId,
    modelConfigured: modelConfigured(),
    mainKey: "main",
    mainSessionKey: agent.mainSessionKey,
  };
}

/** The reference's `status` sections about the agent: its heartbeat, its sessions, its queued system events. */
export function agentStatus(agent: AgentService, heartbeat: () => HeartbeatOptions): Partial<StatusResult> {
  const now = Date.now();
  const entries = agent.store.list();
  const defaults = agent.sessionDefaults();
  const recent = entries.slice(0, RECENT_SESSIONS).map((entry) => ({
    key: entry.key,
    sessionId: entry.sessionId,
    updatedAt: entry.updatedAt,
    age: Math.max(0, now - entry.updatedAt),
    totalTokens: entry.inputTokens + entry.outputTokens,
    ...(entry.model ? { model: entry.model } : defaults.model ? { model: defaults.model } : {}),
  }));
  const everyMs = heartbeat().everyMs;
  return {
    heartbeat: {
      defaultAgentId: agent.agentId,
      agents: [
        {
          agentId: agent.agentId,
          enabled: everyMs > 0,
          every: everyMs > 0 ? `${Math.round(everyMs / 60_000)}m` : "off",
          everyMs: everyMs > 0 ? everyMs : null,
        },
      ],
    },
    sessions: {
      paths: [agent.store.indexPath],
      count: entries.length,
      defaults: { model: defaults.model, contextTokens: defaults.contextTokens },
      recent,
      byAgent: [{ agentId: agent.agentId, path: agent.store.indexPath, count: entries.length, recent }],
    },
    queuedSystemEvents: agent.pendingSystemEvents(),
  };
}
