import type { AgentService, SessionPlacement, SessionStorage } from "@gateway/agent";
import type { GatewayServer } from "@gateway/server";
import { deferredSessionStorage } from "./deferred-session-storage.js";
import type { FleetMembership } from "./membership.js";

/** The agent options of fleet mode, and the call that connects them to the agent once it exists. */
export interface FleetSessions {
  readonly options: { store: SessionStorage; placement: SessionPlacement };
  attach(agent: AgentService): void;
}

/**
 * Sessions across the fleet (fleet.enabled): transcripts and the session index in Redis, read alike by every
 * instance; each session's turns run on the instance holding its lease, the others forward to it. Redis modules load
 * only here, when the fleet service has started.
 */
export function attachFleetSessions(
  server: GatewayServer,
  fleet: FleetMembership,
  settings: { agentId: string; runTimeoutMs: () => number },
): FleetSessions {
  let agent: AgentService | undefined;
  let resolveStore!: (store: SessionStorage) => void;
  const store = new Promise<SessionStorage>((resolve) => {
    resolveStore = resolve;
  });
  let placement: import("@gateway/fleet").LeasedSessionPlacement | undefined;
  let redisStore: import("@gateway/fleet").RedisSessionStore | undefined;
  let resolvePlacement!: () => void;
  const placed = new Promise<void>((resolve) => {
    resolvePlacement = resolve;
  });

  server.registerService({
    name: "fleet-sessions",
    async start() {
      const [parts, { LeasedSessionPlacement, RedisSessionStore }] = await Promise.all([
        fleet.parts(),
        import("@gateway/fleet"),
      ]);
      const local = agent!;
      placement = new LeasedSessionPlacement(parts.redis, parts.leases, parts.rpc, {
        id: parts.id,
        agentId: settings.agentId,
        leaseMs: parts.leaseMs,
        runTimeoutMs: settings.runTimeoutMs(),
        local: {
          send: (request) =>
            local.send(request.sessionKey, request.message, {
              ...(request.mode ? { mode: request.mode } : {}),
              ...(request.origin ? { origin: request.origin } : {}),
              ...(request.idempotencyKey ? { idempotencyKey: request.idempotencyKey } : {}),
              forwarded: true,
            }),
          abort: async (sessionKey, runId) => local.lanes.abort(sessionKey, runId),
          event: (request) =>
            local.systemEvent(request.text, {
              sessionKey: request.sessionKey,
              ...(request.wake ? { wake: request.wake } : {}),
              ...(request.eventIds ? { eventIds: request.eventIds } : {}),
            }),
        },
        busy: (sessionKey) => local.lanes.isBusy(sessionKey),
        onLost(sessionKey, reason) {
          server.logger.warn(`fleet: session ${sessionKey} is no longer this instance's (${reason}); its run stops`);
          local.lanes.abort(sessionKey);
        },
      });
      const owner = placement;
      redisStore = new RedisSessionStore(parts.redis, {
        keyPrefix: parts.keyPrefix,
        agentId: settings.agentId,
        fence: (sessionKey) => owner.fence(sessionKey),
        onProblem: (message) => server.logger.warn(`fleet: ${message} (written by hand or by another version?)`),
      });
      resolveStore(redisStore);
      resolvePlacement();
      await redisStore.ready;
    },
    stop() {
      placement?.close();
      redisStore?.close();
    },
  });

  const ready = async () => {
    await placed;
    return placement!;
  };
  return {
    options: {
      store: deferredSessionStorage(store, `redis (fleet sessions of agent ${settings.agentId})`),
      placement: {
        claim: async (sessionKey) => (await ready()).claim(sessionKey),
        idle: (sessionKey) => placement?.idle(sessionKey),
        send: async (owner, request) => (await ready()).send(owner, request),
        abort: async (owner, sessionKey, runId) => (await ready()).abort(owner, sessionKey, runId),
        event: async (owner, request) => (await ready()).event(owner, request),
      },
    },
    attach(service) {
      agent = service;
    },
  };
}
