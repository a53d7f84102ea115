import type { StateVersion } from "@gateway/protocol";
import type { Logger } from "pino";
import type { AuthRateLimiter } from "./auth.js";
import type { Broadcaster } from "./broadcaster.js";
import type { ConnectionIdentity, GatewayConnection } from "./connection.js";
import type { HealthMonitor } from "./health.js";
import type { MethodRegistry } from "./method-registry.js";
import type { GatewayMetrics } from "./metrics.js";
import type { ResolvedOptions } from "./options.js";
import type { PresenceStore } from "./presence.js";

/** Who connected or disconnected. */
export interface ConnectionInfo {
  readonly id: string;
  readonly remoteAddress: string;
  readonly identity: ConnectionIdentity;
}

/** A line of text for the main session, queued by `system-event` (the agent runtime drains it). */
export interface SystemEvent {
  readonly text: string;
  readonly ts: number;
  readonly sessionKey?: string;
  readonly source: { connectionId: string; instanceId?: string };
}

/**
 * The connections of a server: every open socket by id, how many each remote address holds, and how many completed
 * the handshake (by role).
 */
export class ConnectionTable {
  readonly byId = new Map<string, GatewayConnection>();
  readonly #perAddress = new Map<string, number>();
  readonly #readyByRole = { operator: 0, node: 0 };

  /** Sockets open from `address` (handshake done or not). */
  countFrom(address: string): number {
    return this.#perAddress.get(address) ?? 0;
  }

  add(connection: GatewayConnection): void {
    this.byId.set(connection.id, connection);
    this.#perAddress.set(connection.remoteAddress, this.countFrom(connection.remoteAddress) + 1);
  }

  markReady(connection: GatewayConnection): void {
    if (connection.identity) this.#readyByRole[connection.identity.role]++;
  }

  remove(connection: GatewayConnection): void {
    if (!this.byId.delete(connection.id)) return;
    const remaining = this.countFrom(connection.remoteAddress) - 1;
    if (remaining <= 0) this.#perAddress.delete(connection.remoteAddress);
    else this.#perAddress.set(connection.remoteAddress, remaining);
    if (connection.identity) this.#readyByRole[connection.identity.role]--;
  }

  /** Connections that completed the handshake. */
  counts(): { total: number; operators: number; nodes: number } {
    const { operator, node } = this.#readyByRole;
    return { total: operator + node, operators: operator, nodes: node };
  }
}

/** Listeners of connections, disconnections and system events; one that throws is logged and never stops the others. */
export class ServerListeners {
  readonly connection = new Set<(info: ConnectionInfo) => void>();
  readonly disconnect = new Set<(info: ConnectionInfo) => void>();
  readonly systemEvent = new Set<(event: SystemEvent) => void>();

  constructor(private readonly logger: Logger) {}

  emit<K extends "connection" | "disconnect" | "systemEvent">(
    kind: K,
    value: K extends "systemEvent" ? SystemEvent : ConnectionInfo,
  ): void {
    for (const listener of this[kind] as Set<(value: unknown) => void>) {
      try {
        const result = listener(value) as unknown;
        if (result instanceof Promise)
          result.catch((error: unknown) => this.logger.error({ err: error }, `a ${kind} listener failed`));
      } catch (error) {
        this.logger.error({ err: error }, `a ${kind} listener failed`);
      }
    }
  }
}

/** What the parts of a server (acceptor, dispatcher, HTTP app, listener) share. */
export interface ServerContext {
  /** The current options (they change with `updateSettings` and listener restarts). */
  readonly options: () => ResolvedOptions;
  readonly logger: Logger;
  readonly metrics: GatewayMetrics;
  readonly registry: MethodRegistry;
  readonly presence: PresenceStore;
  readonly health: HealthMonitor;
  readonly broadcaster: Broadcaster;
  readonly rateLimiter: AuthRateLimiter;
  readonly connections: ConnectionTable;
  readonly listeners: ServerListeners;
  readonly startedAt: number;
  /** Whether new sockets are turned away (closing or rebinding) and why. */
  readonly lifecycle: { closing: boolean; restarting: boolean; ready: boolean };
  readonly shutdownSignal: AbortSignal;
  stateVersion(): StateVersion;
  /** Presence changed: broadcast it soon (coalesced). */
  presenceChanged(): void;
}
