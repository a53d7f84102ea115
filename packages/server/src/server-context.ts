import type { SessionDefaults, StateVersion } from "@gateway/protocol";
import type { Logger } from "pino";
import type { AuthRateLimiter } from "./auth.js";
import type { Broadcaster } from "./broadcaster.js";
import type { ConnectionIdentity, GatewayConnection } from "./connection.js";
import type { HealthMonitor } from "./health.js";
import type { MethodRegistry } from "./method-registry.js";
import type { GatewayMetrics } from "./metrics.js";
import type { ResolvedOptions } from "./options.js";
import type { PluginSurfaces } from "./plugin-surfaces.js";
import type { PresenceStore } from "./presence.js";
import type { PresencePublisher } from "./presence-publisher.js";

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
 * The connections of a server: every open socket by id; per remote address, those still in their handshake (in
 * arrival order, so the oldest can be evicted) and those that completed it; the totals by role.
 */
export class ConnectionTable {
  readonly byId = new Map<string, GatewayConnection>();
  readonly #pending = new Set<GatewayConnection>();
  readonly #pendingByAddress = new Map<string, Set<GatewayConnection>>();
  readonly #readyByAddress = new Map<string, number>();
  readonly #readyByRole = { operator: 0, node: 0 };

  /** Connections from `address` that completed the handshake. */
  readyFrom(address: string): number {
    return this.#readyByAddress.get(address) ?? 0;
  }

  /** Sockets from `address` still in their handshake. */
  pendingFrom(address: string): number {
    return this.#pendingByAddress.get(address)?.size ?? 0;
  }

  /** Sockets still in their handshake, from everywhere. */
  get pendingTotal(): number {
    return this.#pending.size;
  }

  /** The oldest socket still in its handshake: from `address`, or from anywhere. */
  oldestPending(address?: string): GatewayConnection | undefined {
    const pool = address === undefined ? this.#pending : this.#pendingByAddress.get(address);
    return pool?.values().next().value;
  }

  add(connection: GatewayConnection): void {
    this.byId.set(connection.id, connection);
    this.#pending.add(connection);
    let fromAddress = this.#pendingByAddress.get(connection.remoteAddress);
    if (!fromAddress) {
      fromAddress = new Set();
      this.#pendingByAddress.set(connection.remoteAddress, fromAddress);
    }
    fromAddress.add(connection);
  }

  markReady(connection: GatewayConnection): void {
    this.#unpend(connection);
    this.#readyByAddress.set(connection.remoteAddress, this.readyFrom(connection.remoteAddress) + 1);
    if (connection.identity) this.#readyByRole[connection.identity.role]++;
  }

  remove(connection: GatewayConnection): void {
    if (!this.byId.delete(connection.id)) return;
    if (this.#unpend(connection)) return;
    const remaining = this.readyFrom(connection.remoteAddress) - 1;
    if (remaining <= 0) this.#readyByAddress.delete(connection.remoteAddress);
    else this.#readyByAddress.set(connection.remoteAddress, remaining);
    if (connection.identity) this.#readyByRole[connection.identity.role]--;
  }

  /** Take a connection out of the pending pools; whether it was there. */
  #unpend(connection: GatewayConnection): boolean {
    if (!this.#pending.delete(connection)) return false;
    const fromAddress = this.#pendingByAddress.get(connection.remoteAddress);
    fromAddress?.delete(connection);
    if (fromAddress?.size === 0) this.#pendingByAddress.delete(connection.remoteAddress);
    return true;
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
  /** Who gets presence events, and when they go out. */
  readonly presenceReaders: PresencePublisher;
  readonly health: HealthMonitor;
  readonly broadcaster: Broadcaster;
  readonly rateLimiter: AuthRateLimiter;
  readonly connections: ConnectionTable;
  readonly listeners: ServerListeners;
  /** Web surfaces advertised in `hello-ok.pluginSurfaceUrls`. */
  readonly pluginSurfaces: PluginSurfaces;
  readonly startedAt: number;
  /** Whether new sockets are turned away (closing or rebinding) and why. */
  readonly lifecycle: { closing: boolean; restarting: boolean; ready: boolean };
  readonly shutdownSignal: AbortSignal;
  stateVersion(): StateVersion;
  /** `hello-ok.snapshot.sessionDefaults`, when the gateway has an agent (set by `setSessionDefaults`). */
  sessionDefaults: (() => SessionDefaults) | undefined;
  /** Presence changed: broadcast it soon (coalesced). */
  presenceChanged(): void;
}
