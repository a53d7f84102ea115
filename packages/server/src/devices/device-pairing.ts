import type { DeviceStore, PairedDeviceRecord, PendingDeviceRequest, PendingNodeRequest } from "@gateway/pairing";
import type {
  ConnectParams,
  DevicePairRequest,
  NodePairRequest,
  NodeSummary,
  PairedDevice,
  PairedNode,
} from "@gateway/protocol";
import type { ConnectStage } from "../connect-pipeline.js";
import type { GatewayServer } from "../gateway-server.js";
import { approveDevice, type DeviceConnectHost, verifyDevice } from "./device-connect.js";
import { registerDeviceMethods } from "./device-methods.js";
import { registerNodeMethods } from "./node-methods.js";
import { type ConnectedNode, NodeRegistry } from "./node-registry.js";

/** Options of device pairing. */
export interface DevicePairingOptions {
  store: DeviceStore;
  /** Pair direct loopback connections without asking (never through a proxy or a foreign Origin). @default true */
  autoApproveLoopback?: () => boolean;
  /** Let a browser Control UI connect without a device identity (insecure; local testing only). @default false */
  allowDevicelessControlUi?: () => boolean;
  /** How often expired requests are swept (and `*.pair.resolved` with `expired` sent). @default 30000 */
  sweepIntervalMs?: number;
}

const defined = <T extends object>(value: T): T =>
  Object.fromEntries(Object.entries(value).filter(([, entry]) => entry !== undefined)) as T;

/** A pending device request as the protocol shows it. */
export function deviceRequestView(request: PendingDeviceRequest): DevicePairRequest {
  return defined({
    requestId: request.requestId,
    deviceId: request.deviceId,
    publicKey: request.publicKey,
    displayName: request.displayName,
    platform: request.platform,
    deviceFamily: request.deviceFamily,
    clientId: request.clientId,
    clientMode: request.clientMode,
    role: request.role,
    scopes: request.scopes,
    remoteIp: request.remoteIp,
    isRepair: request.isRepair,
    ts: request.ts,
  });
}

/** A paired device as the protocol shows it (never its tokens). */
export function pairedDeviceView(device: PairedDeviceRecord): PairedDevice {
  return defined({
    deviceId: device.deviceId,
    publicKey: device.publicKey,
    displayName: device.displayName,
    platform: device.platform,
    roles: device.roles,
    scopes: device.scopes,
    pairedAtMs: device.pairedAtMs,
    lastSeenAtMs: device.lastSeenAtMs,
  });
}

/** A pending node request as the protocol shows it. */
export function nodeRequestView(request: PendingNodeRequest): NodePairRequest {
  return defined({
    requestId: request.requestId,
    nodeId: request.nodeId,
    displayName: request.displayName,
    platform: request.platform,
    version: request.version,
    caps: request.caps,
    commands: request.commands,
    remoteIp: request.remoteIp,
    ts: request.ts,
  });
}

/**
 * Devices and nodes on a gateway: the connect stages (device proof, device tokens, pairing approval), the
 * `device.pair.*` / `device.token.*` / `node.*` methods and events, and the registry of connected nodes. Create it
 * before the server (its stages go into the server's options), then `attach(server)`.
 */
export class DevicePairing {
  readonly store: DeviceStore;
  readonly nodes = new NodeRegistry();
  readonly #options: DevicePairingOptions;
  #server: GatewayServer | undefined;

  constructor(options: DevicePairingOptions) {
    this.#options = options;
    this.store = options.store;
  }

  /** The stages to pass as the server's `connectStages`. */
  connectStages(): { beforeAuth: ConnectStage[]; afterAuth: ConnectStage[] } {
    const host: DeviceConnectHost = {
      store: this.store,
      autoApproveLoopback: () => this.#options.autoApproveLoopback?.() ?? true,
      allowDevicelessControlUi: () => this.#options.allowDevicelessControlUi?.() ?? false,
      frontDoor: () => ({
        bindHost: this.#server?.options.host ?? "127.0.0.1",
        allowedHosts: this.#server?.options.allowedHosts ?? [],
        allowedOrigins: this.#server?.options.allowedOrigins ?? [],
      }),
      requested: (request) => this.#server?.broadcast("device.pair.requested", deviceRequestView(request)),
      nodeDeclared: (connectionId, deviceId, params) => this.#declareNode(connectionId, deviceId, params),
      log: (message, fields) => this.#server?.logger.info(fields, message),
    };
    return { beforeAuth: [verifyDevice(host)], afterAuth: [approveDevice(host)] };
  }

  /** Register the methods, follow connections, sweep expired requests. */
  attach(server: GatewayServer): void {
    this.#server = server;
    registerDeviceMethods(server, this);
    registerNodeMethods(server, this);
    server.onConnection((connection) => {
      const node = this.nodes.connected(connection.id);
      if (node) void this.#reconcileNode(node);
    });
    server.onDisconnect((connection) => {
      this.nodes.disconnected(connection.id);
    });
    // In a fleet: a token revoked or rotated (a device removed) on another instance closes its connections here too.
    this.store.onRevoked((deviceId, role) => {
      const closed = this.disconnectDevice(deviceId, role, "device token revoked or rotated on another instance");
      if (closed > 0) server.logger.info({ deviceId, role, closed }, "device connections closed (revoked elsewhere)");
    });
    let timer: NodeJS.Timeout | undefined;
    server.registerService({
      name: "device-pairing",
      start: () => {
        timer = setInterval(() => void this.sweep(), this.#options.sweepIntervalMs ?? 30_000);
        timer.unref();
      },
      stop: async () => {
        clearInterval(timer);
        this.nodes.close();
        await this.store.flush();
      },
    });
  }

  /** Drop expired requests and tell operators (in a fleet, the instance whose removal landed tells them). */
  async sweep(): Promise<void> {
    const expired = await this.store.sweep();
    const ts = Date.now();
    for (const request of expired.devices)
      this.#server?.broadcast("device.pair.resolved", {
        requestId: request.requestId,
        deviceId: request.deviceId,
        decision: "expired",
        ts,
      });
    for (const request of expired.nodes)
      this.#server?.broadcast("node.pair.resolved", {
        requestId: request.requestId,
        nodeId: request.nodeId,
        decision: "expired",
        ts,
      });
  }

  /** Close the open connections of a device (all roles, or one). */
  disconnectDevice(deviceId: string, role: string | undefined, reason: string): number {
    return (
      this.#server?.disconnect(
        (connection) =>
          connection.identity.deviceId === deviceId && (role === undefined || connection.identity.role === role),
        reason,
      ) ?? 0
    );
  }

  /** The commands a node may be sent: declared in its connect and approved by an operator. */
  allowedCommands(node: ConnectedNode): string[] {
    const approved = this.store.device(node.nodeId)?.node?.commands ?? [];
    return node.commands.filter((command) => approved.includes(command));
  }

  /** A node as `node.list` shows it: the paired ones and the connected ones. */
  nodeSummaries(): NodeSummary[] {
    const summaries = new Map<string, NodeSummary>();
    for (const device of this.store.pairedNodes()) {
      summaries.set(
        device.deviceId,
        defined({
          nodeId: device.deviceId,
          displayName: device.node.displayName ?? device.displayName,
          platform: device.node.platform ?? device.platform,
          version: device.node.version,
          caps: device.node.caps,
          commands: device.node.commands,
          paired: true,
          connected: false,
        }),
      );
    }
    for (const node of this.nodes.list()) {
      const approval = this.store.device(node.nodeId)?.node;
      summaries.set(
        node.nodeId,
        defined({
          nodeId: node.nodeId,
          displayName: approval?.displayName ?? node.displayName,
          platform: node.platform,
          version: node.version,
          caps: [...node.caps],
          commands: this.allowedCommands(node),
          paired: approval !== undefined,
          connected: true,
          connectedAtMs: node.connectedAtMs,
        }),
      );
    }
    return [...summaries.values()];
  }

  /** Paired nodes as `node.pair.list` shows them. */
  pairedNodeViews(): PairedNode[] {
    return this.store.pairedNodes().map((device) =>
      defined({
        nodeId: device.deviceId,
        displayName: device.node.displayName ?? device.displayName,
        platform: device.node.platform ?? device.platform,
        caps: device.node.caps,
        commands: device.node.commands,
        pairedAtMs: device.node.pairedAtMs,
      }),
    );
  }

  #declareNode(connectionId: string, deviceId: string, params: ConnectParams): void {
    this.nodes.declare({
      nodeId: deviceId,
      connectionId,
      displayName: params.client.displayName,
      platform: params.client.platform,
      version: params.client.version,
      caps: [...new Set(params.caps ?? [])],
      commands: [...new Set(params.commands ?? [])],
      connectedAtMs: Date.now(),
    });
  }

  /** A node connected declaring commands beyond its approval: an operator is asked (the node works meanwhile). */
  async #reconcileNode(node: ConnectedNode): Promise<void> {
    const approval = this.store.device(node.nodeId)?.node;
    const covered =
      approval !== undefined &&
      node.commands.every((command) => approval.commands.includes(command)) &&
      node.caps.every((cap) => approval.caps.includes(cap));
    if (covered || (node.commands.length === 0 && node.caps.length === 0 && approval === undefined)) return;
    try {
      const { request, created } = await this.store.requestNode({
        nodeId: node.nodeId,
        caps: node.caps,
        commands: node.commands,
        displayName: node.displayName,
        platform: node.platform,
        version: node.version,
      });
      if (created) this.#server?.broadcast("node.pair.requested", nodeRequestView(request));
    } catch (error) {
      this.#server?.logger.error({ err: error, nodeId: node.nodeId }, "could not record a node pairing request");
    }
  }
}
