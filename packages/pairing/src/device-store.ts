import { createHash, randomBytes, randomUUID, timingSafeEqual } from "node:crypto";
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { hasScope, type OperatorScope } from "@gateway/protocol";
import { JsonStateFile, type StateFileProblem } from "@gateway/state";
import { type Static, type TSchema, type TString, Type } from "@sinclair/typebox";

/** Pending device and node requests expire after this long. */
export const DEVICE_PAIRING_TTL_MS = 5 * 60_000;
/** Pending requests kept at most (the oldest go first): a flood of new keys cannot grow the file. */
export const DEVICE_PAIRING_MAX_PENDING = 64;

const Strings = Type.Array(Type.String());
const Optional = <S extends TSchema = TString>(schema?: S) => Type.Optional((schema ?? Type.String()) as S);

/** A device token as stored: its hash, never the token. */
const DeviceTokenRecord = Type.Object({
  hash: Type.String(),
  scopes: Strings,
  issuedAtMs: Type.Number(),
});

/** The approved command surface of a device that runs as a node. */
const NodeApproval = Type.Object({
  displayName: Optional(),
  platform: Optional(),
  version: Optional(),
  caps: Strings,
  commands: Strings,
  pairedAtMs: Type.Number(),
});
export type NodeApproval = Static<typeof NodeApproval>;

/** A paired device: what it may be (roles, scopes), its tokens per role, its pinned metadata. */
export const PairedDeviceRecord = Type.Object({
  deviceId: Type.String(),
  publicKey: Type.String(),
  displayName: Optional(),
  platform: Optional(),
  deviceFamily: Optional(),
  clientId: Optional(),
  clientMode: Optional(),
  roles: Strings,
  scopes: Strings,
  tokens: Type.Record(Type.String(), DeviceTokenRecord),
  pairedAtMs: Type.Number(),
  lastSeenAtMs: Optional(Type.Number()),
  node: Type.Optional(NodeApproval),
});
export type PairedDeviceRecord = Static<typeof PairedDeviceRecord>;

/** Why a device needs (new) approval. */
export type PairingReason = "not-paired" | "role-upgrade" | "scope-upgrade" | "metadata-upgrade";

/** A device waiting for an operator. */
export const PendingDeviceRequest = Type.Object({
  requestId: Type.String(),
  deviceId: Type.String(),
  publicKey: Type.String(),
  displayName: Optional(),
  platform: Optional(),
  deviceFamily: Optional(),
  clientId: Optional(),
  clientMode: Optional(),
  role: Type.String(),
  scopes: Strings,
  remoteIp: Optional(),
  isRepair: Type.Boolean(),
  reason: Type.String(),
  ts: Type.Number(),
  expiresAtMs: Type.Number(),
});
export type PendingDeviceRequest = Static<typeof PendingDeviceRequest>;

/** A node's command surface waiting for an operator. */
export const PendingNodeRequest = Type.Object({
  requestId: Type.String(),
  nodeId: Type.String(),
  displayName: Optional(),
  platform: Optional(),
  version: Optional(),
  caps: Strings,
  commands: Strings,
  remoteIp: Optional(),
  ts: Type.Number(),
  expiresAtMs: Type.Number(),
});
export type PendingNodeRequest = Static<typeof PendingNodeRequest>;

const DeviceFile = Type.Object({
  version: Type.Literal(1),
  devices: Type.Array(PairedDeviceRecord),
  pending: Type.Array(PendingDeviceRequest),
  pendingNodes: Type.Array(PendingNodeRequest),
});
type DeviceFile = Static<typeof DeviceFile>;

/** What a device asks for when it connects. */
export interface DeviceRequestInput {
  deviceId: string;
  publicKey: string;
  role: string;
  scopes: readonly string[];
  reason: PairingReason;
  displayName?: string | undefined;
  platform?: string | undefined;
  deviceFamily?: string | undefined;
  clientId?: string | undefined;
  clientMode?: string | undefined;
  remoteIp?: string | undefined;
}

/** What a node declares when it connects. */
export interface NodeRequestInput {
  nodeId: string;
  caps: readonly string[];
  commands: readonly string[];
  displayName?: string | undefined;
  platform?: string | undefined;
  version?: string | undefined;
  remoteIp?: string | undefined;
}

/** A token handed out once (only its hash is kept). */
export interface IssuedDeviceToken {
  token: string;
  role: string;
  scopes: string[];
  issuedAtMs: number;
}

/** Options of the device store. */
export interface DeviceStoreOptions {
  now?: () => number;
  /** Told once when the file on disk was unusable and moved aside (every device pairs again). */
  onProblem?: (problem: StateFileProblem) => void;
}

const hashToken = (token: string): string => createHash("sha256").update(token, "utf8").digest("hex");

function tokenMatches(presented: string, hash: string): boolean {
  const a = Buffer.from(hashToken(presented), "hex");
  const b = Buffer.from(hash, "hex");
  return a.length === b.length && timingSafeEqual(a, b);
}

/** Whether `granted` covers every scope in `wanted` (`operator.admin` covers all, `write` covers `read`). */
export function scopesCover(granted: readonly string[], wanted: readonly string[]): boolean {
  return wanted.every((scope) => hasScope(granted, scope as OperatorScope));
}

const union = (a: readonly string[], b: readonly string[]): string[] => [...new Set([...a, ...b])];

const defined = <T extends object>(value: T): T =>
  Object.fromEntries(Object.entries(value).filter(([, entry]) => entry !== undefined)) as T;

/**
 * One store for devices and nodes, `<state>/devices/devices.json` (mode 0600, directory 0700): paired devices with
 * their approved roles and scopes, device tokens per role (sha256 hashes only), the approved command surface of nodes,
 * and pending requests (5 minutes). Decisions are made in memory; a change is resolved once it is on disk.
 */
export class DeviceStore {
  readonly #file: JsonStateFile<typeof DeviceFile>;
  readonly #now: () => number;
  #data: DeviceFile;

  constructor(stateDir: string, options: DeviceStoreOptions = {}) {
    const directory = join(stateDir, "devices");
    mkdirSync(directory, { recursive: true, mode: 0o700 });
    this.#now = options.now ?? Date.now;
    this.#file = new JsonStateFile(join(directory, "devices.json"), {
      schema: DeviceFile,
      empty: () => ({ version: 1, devices: [], pending: [], pendingNodes: [] }),
      pretty: true,
      ...(options.onProblem ? { onProblem: options.onProblem } : {}),
    });
    this.#data = this.#file.read();
  }

  get path(): string {
    return this.#file.path;
  }

  /** Read the file again (another process — the CLI on this machine — may have changed it). */
  reload(): void {
    this.#data = this.#file.read();
  }

  async #save(): Promise<void> {
    await this.#file.write(structuredClone(this.#data));
  }

  /** Drop expired requests; returns them (device and node requests). */
  expire(): { devices: PendingDeviceRequest[]; nodes: PendingNodeRequest[] } {
    const time = this.#now();
    const devices = this.#data.pending.filter((request) => request.expiresAtMs <= time);
    const nodes = this.#data.pendingNodes.filter((request) => request.expiresAtMs <= time);
    if (devices.length > 0 || nodes.length > 0) {
      this.#data.pending = this.#data.pending.filter((request) => request.expiresAtMs > time);
      this.#data.pendingNodes = this.#data.pendingNodes.filter((request) => request.expiresAtMs > time);
      void this.#save().catch(() => undefined);
    }
    return { devices, nodes };
  }

  /** A paired device. */
  device(deviceId: string): PairedDeviceRecord | undefined {
    return this.#data.devices.find((device) => device.deviceId === deviceId);
  }

  /** Pending device requests and paired devices. */
  list(): { pending: PendingDeviceRequest[]; paired: PairedDeviceRecord[] } {
    this.expire();
    return { pending: [...this.#data.pending], paired: [...this.#data.devices] };
  }

  /**
   * Ask for approval: a new request, or the one this device already has pending (widened to what it asks now, its
   * expiry renewed). `created` says whether operators should be told.
   */
  async request(input: DeviceRequestInput): Promise<{ request: PendingDeviceRequest; created: boolean }> {
    this.expire();
    const time = this.#now();
    const existing = this.#data.pending.find((request) => request.deviceId === input.deviceId);
    if (existing) {
      const previous = { ...existing };
      existing.scopes = union(existing.scopes, input.scopes);
      existing.role = input.role;
      existing.reason = input.reason;
      existing.expiresAtMs = time + DEVICE_PAIRING_TTL_MS;
      try {
        await this.#save();
      } catch (error) {
        Object.assign(existing, previous);
        throw error;
      }
      return { request: { ...existing }, created: false };
    }
    const request: PendingDeviceRequest = defined({
      requestId: randomUUID(),
      deviceId: input.deviceId,
      publicKey: input.publicKey,
      displayName: input.displayName,
      platform: input.platform,
      deviceFamily: input.deviceFamily,
      clientId: input.clientId,
      clientMode: input.clientMode,
      role: input.role,
      scopes: [...input.scopes],
      remoteIp: input.remoteIp,
      isRepair: this.device(input.deviceId) !== undefined,
      reason: input.reason,
      ts: time,
      expiresAtMs: time + DEVICE_PAIRING_TTL_MS,
    });
    this.#data.pending.push(request);
    if (this.#data.pending.length > DEVICE_PAIRING_MAX_PENDING) this.#data.pending.shift();
    try {
      await this.#save();
    } catch (error) {
      this.#data.pending = this.#data.pending.filter((candidate) => candidate !== request);
      throw error;
    }
    return { request: { ...request }, created: true };
  }

  /** Approve a pending request: the device is paired with the role and scopes asked (added to what it had). */
  async approve(requestId: string): Promise<{ request: PendingDeviceRequest; device: PairedDeviceRecord } | undefined> {
    this.expire();
    const index = this.#data.pending.findIndex((request) => request.requestId === requestId);
    if (index < 0) return undefined;
    const before = structuredClone(this.#data);
    const [request] = this.#data.pending.splice(index, 1) as [PendingDeviceRequest];
    const device = this.#pair(request);
    try {
      await this.#save();
    } catch (error) {
      this.#data = before;
      throw error;
    }
    return { request, device: structuredClone(device) };
  }

  #pair(request: PendingDeviceRequest): PairedDeviceRecord {
    const time = this.#now();
    const existing = this.device(request.deviceId);
    const metadata = defined({
      displayName: request.displayName,
      platform: request.platform,
      deviceFamily: request.deviceFamily,
      clientId: request.clientId,
      clientMode: request.clientMode,
    });
    if (existing) {
      Object.assign(existing, metadata);
      existing.publicKey = request.publicKey;
      existing.roles = union(existing.roles, [request.role]);
      existing.scopes = union(existing.scopes, request.scopes);
      // The operator approved what the device asked for: its token of that role carries it from now on.
      const token = existing.tokens[request.role];
      if (token && request.role === "operator") token.scopes = union(token.scopes, request.scopes);
      return existing;
    }
    const device: PairedDeviceRecord = {
      deviceId: request.deviceId,
      publicKey: request.publicKey,
      ...metadata,
      roles: [request.role],
      scopes: [...request.scopes],
      tokens: {},
      pairedAtMs: time,
    };
    this.#data.devices.push(device);
    return device;
  }

  /** Pair without asking (silent local approval): one write for the request and its approval. */
  async approveDirect(input: DeviceRequestInput): Promise<PairedDeviceRecord> {
    const time = this.#now();
    const before = structuredClone(this.#data);
    this.#data.pending = this.#data.pending.filter((request) => request.deviceId !== input.deviceId);
    const device = this.#pair({
      ...input,
      scopes: [...input.scopes],
      requestId: "direct",
      isRepair: false,
      ts: time,
      expiresAtMs: time,
    });
    try {
      await this.#save();
    } catch (error) {
      this.#data = before;
      throw error;
    }
    return structuredClone(device);
  }

  /** Reject a pending request. */
  async reject(requestId: string): Promise<PendingDeviceRequest | undefined> {
    this.expire();
    const index = this.#data.pending.findIndex((request) => request.requestId === requestId);
    if (index < 0) return undefined;
    const [request] = this.#data.pending.splice(index, 1) as [PendingDeviceRequest];
    try {
      await this.#save();
    } catch (error) {
      this.#data.pending.splice(index, 0, request);
      throw error;
    }
    return request;
  }

  /** Forget a device: its pairing, its tokens, its node approval and anything it has pending. */
  async remove(deviceId: string): Promise<boolean> {
    const before = structuredClone(this.#data);
    const count = this.#data.devices.length + this.#data.pending.length + this.#data.pendingNodes.length;
    this.#data.devices = this.#data.devices.filter((device) => device.deviceId !== deviceId);
    this.#data.pending = this.#data.pending.filter((request) => request.deviceId !== deviceId);
    this.#data.pendingNodes = this.#data.pendingNodes.filter((request) => request.nodeId !== deviceId);
    if (this.#data.devices.length + this.#data.pending.length + this.#data.pendingNodes.length === count) return false;
    try {
      await this.#save();
    } catch (error) {
      this.#data = before;
      throw error;
    }
    return true;
  }

  /**
   * Issue a new token for a paired device and role (the previous one of that role stops working). Its scopes are
   * the approved ones, narrowed to `scopes` when given; undefined when the device is not approved for the role or
   * asks for scopes beyond the approval.
   */
  async issueToken(deviceId: string, role: string, scopes?: readonly string[]): Promise<IssuedDeviceToken | undefined> {
    const device = this.device(deviceId);
    if (!device?.roles.includes(role)) return undefined;
    const approved = role === "operator" ? device.scopes : [];
    if (scopes && !scopesCover(approved, scopes)) return undefined;
    const granted = scopes ? [...scopes] : [...approved];
    const token = randomBytes(32).toString("base64url");
    const issuedAtMs = this.#now();
    const previous = device.tokens[role];
    device.tokens[role] = { hash: hashToken(token), scopes: granted, issuedAtMs };
    try {
      await this.#save();
    } catch (error) {
      if (previous) device.tokens[role] = previous;
      else delete device.tokens[role];
      throw error;
    }
    return { token, role, scopes: granted, issuedAtMs };
  }

  /** The scopes a presented device token carries, or undefined when it is not this device's token for `role`. */
  verifyToken(deviceId: string, role: string, token: string): { scopes: string[]; issuedAtMs: number } | undefined {
    const record = this.device(deviceId)?.tokens[role];
    if (!record || !tokenMatches(token, record.hash)) return undefined;
    return { scopes: [...record.scopes], issuedAtMs: record.issuedAtMs };
  }

  /** Revoke a device's token for a role; whether there was one. */
  async revokeToken(deviceId: string, role: string): Promise<boolean> {
    const device = this.device(deviceId);
    const previous = device?.tokens[role];
    if (!device || !previous) return false;
    delete device.tokens[role];
    try {
      await this.#save();
    } catch (error) {
      device.tokens[role] = previous;
      throw error;
    }
    return true;
  }

  /** Note that a device connected (kept in the background; losing it costs nothing). */
  touch(deviceId: string): void {
    const device = this.device(deviceId);
    if (!device) return;
    device.lastSeenAtMs = this.#now();
    void this.#save().catch(() => undefined);
  }

  // ---- nodes: the command surface a device declares as a node, approved by an operator

  /** Pending node requests. */
  pendingNodes(): PendingNodeRequest[] {
    this.expire();
    return [...this.#data.pendingNodes];
  }

  /** Devices whose node surface was approved. */
  pairedNodes(): Array<PairedDeviceRecord & { node: NodeApproval }> {
    return this.#data.devices.filter((device): device is PairedDeviceRecord & { node: NodeApproval } =>
      Boolean(device.node),
    );
  }

  /** Ask for approval of a node's declared surface (the pending one is replaced by what it declares now). */
  async requestNode(input: NodeRequestInput): Promise<{ request: PendingNodeRequest; created: boolean }> {
    this.expire();
    const time = this.#now();
    const existing = this.#data.pendingNodes.find((request) => request.nodeId === input.nodeId);
    const same =
      existing &&
      existing.commands.join("\n") === input.commands.join("\n") &&
      existing.caps.join("\n") === input.caps.join("\n");
    const request: PendingNodeRequest = defined({
      requestId: existing?.requestId ?? randomUUID(),
      nodeId: input.nodeId,
      displayName: input.displayName,
      platform: input.platform,
      version: input.version,
      caps: [...input.caps],
      commands: [...input.commands],
      remoteIp: input.remoteIp,
      ts: existing?.ts ?? time,
      expiresAtMs: time + DEVICE_PAIRING_TTL_MS,
    });
    const before = this.#data.pendingNodes;
    this.#data.pendingNodes = [...before.filter((candidate) => candidate.nodeId !== input.nodeId), request];
    if (this.#data.pendingNodes.length > DEVICE_PAIRING_MAX_PENDING) this.#data.pendingNodes.shift();
    try {
      await this.#save();
    } catch (error) {
      this.#data.pendingNodes = before;
      throw error;
    }
    return { request: { ...request }, created: !same };
  }

  /** Approve a node request: its commands and caps become its approved surface. */
  async approveNode(
    requestId: string,
  ): Promise<{ request: PendingNodeRequest; device: PairedDeviceRecord & { node: NodeApproval } } | undefined> {
    this.expire();
    const request = this.#data.pendingNodes.find((candidate) => candidate.requestId === requestId);
    const device = request ? this.device(request.nodeId) : undefined;
    if (!request || !device) return undefined;
    const before = structuredClone(this.#data);
    this.#data.pendingNodes = this.#data.pendingNodes.filter((candidate) => candidate !== request);
    device.node = defined({
      displayName: device.node?.displayName ?? request.displayName,
      platform: request.platform,
      version: request.version,
      caps: [...request.caps],
      commands: [...request.commands],
      pairedAtMs: this.#now(),
    });
    try {
      await this.#save();
    } catch (error) {
      this.#data = before;
      throw error;
    }
    return { request, device: structuredClone(device) as PairedDeviceRecord & { node: NodeApproval } };
  }

  /** Reject a node request. */
  async rejectNode(requestId: string): Promise<PendingNodeRequest | undefined> {
    const index = this.#data.pendingNodes.findIndex((candidate) => candidate.requestId === requestId);
    if (index < 0) return undefined;
    const [request] = this.#data.pendingNodes.splice(index, 1) as [PendingNodeRequest];
    try {
      await this.#save();
    } catch (error) {
      this.#data.pendingNodes.splice(index, 0, request);
      throw error;
    }
    return request;
  }

  /** Rename a paired node; false when there is no such node. */
  async renameNode(nodeId: string, displayName: string): Promise<boolean> {
    const node = this.device(nodeId)?.node;
    if (!node) return false;
    const previous = node.displayName;
    node.displayName = displayName;
    try {
      await this.#save();
    } catch (error) {
      node.displayName = previous;
      throw error;
    }
    return true;
  }

  /** Resolves when every change is on disk. */
  flush(): Promise<void> {
    return this.#file.flush();
  }
}
