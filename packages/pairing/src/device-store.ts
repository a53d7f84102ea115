import { createHash, randomBytes, randomUUID, timingSafeEqual } from "node:crypto";
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { hasScope, type OperatorScope } from "@gateway/protocol";
import { JsonStateFile, type StateFileProblem } from "@gateway/state";
import { type Static, type TSchema, type TString, Type } from "@sinclair/typebox";
import { FileRecordStorage, type RecordChange, RecordMirror, type RecordStorage, unchanged } from "./record-storage.js";

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

/** Everything kept about one device id: its pairing, and what it has pending (the unit of an atomic change). */
export const DeviceEntry = Type.Object({
  device: Type.Optional(PairedDeviceRecord),
  pending: Type.Optional(PendingDeviceRequest),
  pendingNode: Type.Optional(PendingNodeRequest),
});
export type DeviceEntry = Static<typeof DeviceEntry>;

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

/** Told when another instance revoked a device's token of `role` (every role: undefined), so its connections close. */
export type DeviceRevocationListener = (deviceId: string, role: string | undefined) => void;

/** The note a revoking change carries to the other instances: `revoke:<role>`, or `revoke:*` for every role. */
const revokeNote = (role: string | undefined): string => `revoke:${role ?? "*"}`;

const deviceFileShape = {
  toRecords(file: DeviceFile): Map<string, DeviceEntry> {
    const entries = new Map<string, DeviceEntry>();
    const entry = (id: string) => entries.get(id) ?? entries.set(id, {}).get(id)!;
    for (const device of file.devices) entry(device.deviceId).device = device;
    for (const request of file.pending) entry(request.deviceId).pending = request;
    for (const request of file.pendingNodes) entry(request.nodeId).pendingNode = request;
    return entries;
  },
  fromRecords(entries: ReadonlyMap<string, DeviceEntry>): DeviceFile {
    const all = [...entries.values()];
    return {
      version: 1,
      devices: all.flatMap((entry) => (entry.device ? [entry.device] : [])),
      pending: all.flatMap((entry) => (entry.pending ? [entry.pending] : [])),
      pendingNodes: all.flatMap((entry) => (entry.pendingNode ? [entry.pendingNode] : [])),
    };
  },
};

/**
 * After missing changes (an outage), what to treat as revoked: every role when the device is gone, else each role
 * whose token was replaced or removed meanwhile.
 */
function changedTokens(before: PairedDeviceRecord | undefined, after: PairedDeviceRecord | undefined): string[] {
  if (!before) return [];
  if (!after) return ["*"];
  return Object.entries(before.tokens)
    .filter(([role, token]) => after.tokens[role]?.hash !== token.hash)
    .map(([role]) => role);
}

/** An entry with nothing in it is deleted. */
const settled = (entry: DeviceEntry): DeviceEntry | undefined =>
  entry.device || entry.pending || entry.pendingNode ? entry : undefined;

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
 * One store for devices and nodes: paired devices with their approved roles and scopes, device tokens per role (sha256
 * hashes only), the approved command surface of nodes, and pending requests (5 minutes). Kept in
 * `<state>/devices/devices.json` (mode 0600, directory 0700), or — in a fleet — in a shared storage every instance
 * reads (`share()`). Decisions are made on the records held in memory; a change is resolved once it is stored.
 */
export class DeviceStore {
  readonly #file: JsonStateFile<typeof DeviceFile>;
  readonly #now: () => number;
  readonly #records: RecordMirror<DeviceEntry>;
  readonly #revocationListeners: DeviceRevocationListener[] = [];

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
    this.#records = new RecordMirror(new FileRecordStorage(this.#file, deviceFileShape));
  }

  get path(): string {
    return this.#file.path;
  }

  /**
   * Keep the records in `storage` from now on (a fleet's shared storage): its records replace the file's (the first
   * instance of a fleet carries its file's over), and what other instances change there is followed. The file is
   * left as it was.
   */
  share(storage: RecordStorage<DeviceEntry>): Promise<{ imported: number }> {
    return this.#records.share(storage, (deviceId, before, after, note) => {
      const revoked = note?.startsWith("revoke:")
        ? [note.slice("revoke:".length)]
        : note === "resync"
          ? changedTokens(before?.device, after?.device)
          : [];
      for (const role of revoked)
        for (const listener of this.#revocationListeners) listener(deviceId, role === "*" ? undefined : role);
    });
  }

  /** Vouch for no device until `share()` has read the shared records (`reason` says why meanwhile). */
  awaitShare(reason: string): void {
    this.#records.awaitShare(reason);
  }

  /** Follow revocations made on other instances (a token revoked or rotated, a device removed). */
  onRevoked(listener: DeviceRevocationListener): void {
    this.#revocationListeners.push(listener);
  }

  /** Why the records may be out of date right now (a shared storage cut off from its peers), if so. */
  staleness(): string | undefined {
    return this.#records.staleness();
  }

  #hold(deviceId: string, entry: DeviceEntry | undefined): void {
    this.#records.hold(deviceId, entry);
  }

  #change(deviceId: string, change: RecordChange<DeviceEntry>, note?: string): Promise<boolean> {
    return this.#records.change(deviceId, change, note);
  }

  #all<K extends keyof DeviceEntry>(kind: K): Array<NonNullable<DeviceEntry[K]>> {
    const found: Array<NonNullable<DeviceEntry[K]>> = [];
    for (const [, entry] of this.#records.entries()) {
      const value = entry[kind];
      if (value) found.push(value as NonNullable<DeviceEntry[K]>);
    }
    return found;
  }

  /** The ids with a request expired at `time` (device or node). */
  #expiredIds(time: number): Set<string> {
    const ids = new Set<string>();
    for (const [id, entry] of this.#records.entries()) {
      if ((entry.pending?.expiresAtMs ?? Infinity) <= time || (entry.pendingNode?.expiresAtMs ?? Infinity) <= time)
        ids.add(id);
    }
    return ids;
  }

  /** Remove what expired at `time` from one entry; `removed` is told what that was (only if it is stored). */
  #dropExpired(
    time: number,
    removed: (found: { device?: PendingDeviceRequest; node?: PendingNodeRequest }) => void = () => {},
  ): RecordChange<DeviceEntry> {
    return (current) => {
      if (!current) return unchanged;
      const { pending, pendingNode, ...rest } = current;
      const device = pending && pending.expiresAtMs <= time ? pending : undefined;
      const node = pendingNode && pendingNode.expiresAtMs <= time ? pendingNode : undefined;
      if (!device && !node) return unchanged;
      removed({ ...(device ? { device } : {}), ...(node ? { node } : {}) });
      return settled({
        ...rest,
        ...(pending && !device ? { pending } : {}),
        ...(pendingNode && !node ? { pendingNode } : {}),
      });
    };
  }

  /** Drop expired requests at once (the storage follows in the background); returns them. */
  expire(): { devices: PendingDeviceRequest[]; nodes: PendingNodeRequest[] } {
    const time = this.#now();
    const expired = { devices: [] as PendingDeviceRequest[], nodes: [] as PendingNodeRequest[] };
    for (const id of this.#expiredIds(time)) {
      const drop = this.#dropExpired(time, (found) => {
        if (found.device) expired.devices.push(found.device);
        if (found.node) expired.nodes.push(found.node);
      });
      const kept = drop(this.#records.get(id));
      if (kept !== unchanged) this.#hold(id, kept);
      void this.#change(id, this.#dropExpired(time)).catch(() => undefined);
    }
    return expired;
  }

  /**
   * Remove expired requests from the storage; resolves with those this store removed — in a fleet, each expired
   * request is reported by the one instance whose removal landed.
   */
  async sweep(): Promise<{ devices: PendingDeviceRequest[]; nodes: PendingNodeRequest[] }> {
    const time = this.#now();
    const expired = { devices: [] as PendingDeviceRequest[], nodes: [] as PendingNodeRequest[] };
    for (const id of this.#expiredIds(time)) {
      let found: { device?: PendingDeviceRequest; node?: PendingNodeRequest } = {};
      const changed = await this.#change(
        id,
        this.#dropExpired(time, (removed) => {
          found = removed;
        }),
      ).catch(() => false);
      if (!changed) continue;
      if (found.device) expired.devices.push(found.device);
      if (found.node) expired.nodes.push(found.node);
    }
    return expired;
  }

  /** A paired device. */
  device(deviceId: string): PairedDeviceRecord | undefined {
    return this.#records.get(deviceId)?.device;
  }

  /** Pending device requests (oldest first) and paired devices. */
  list(): { pending: PendingDeviceRequest[]; paired: PairedDeviceRecord[] } {
    this.expire();
    return { pending: this.#all("pending").sort((a, b) => a.ts - b.ts), paired: this.#all("device") };
  }

  /**
   * Ask for approval: a new request, or the one this device already has pending (widened to what it asks now, its
   * expiry renewed). `created` says whether operators should be told.
   */
  async request(input: DeviceRequestInput): Promise<{ request: PendingDeviceRequest; created: boolean }> {
    this.expire();
    let result!: { request: PendingDeviceRequest; created: boolean };
    await this.#change(input.deviceId, (current) => {
      const time = this.#now();
      const existing = current?.pending && current.pending.expiresAtMs > time ? current.pending : undefined;
      const request: PendingDeviceRequest = existing
        ? {
            ...existing,
            scopes: union(existing.scopes, input.scopes),
            role: input.role,
            reason: input.reason,
            expiresAtMs: time + DEVICE_PAIRING_TTL_MS,
          }
        : defined({
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
            isRepair: current?.device !== undefined,
            reason: input.reason,
            ts: time,
            expiresAtMs: time + DEVICE_PAIRING_TTL_MS,
          });
      result = { request, created: !existing };
      return { ...current, pending: request };
    });
    if (result.created) await this.#capPending();
    return { request: { ...result.request }, created: result.created };
  }

  /** A flood of new keys cannot grow the store: past the cap, the oldest requests go. */
  async #capPending(): Promise<void> {
    const pending = this.#all("pending").sort((a, b) => a.ts - b.ts);
    for (const oldest of pending.slice(0, Math.max(0, pending.length - DEVICE_PAIRING_MAX_PENDING))) {
      await this.#change(oldest.deviceId, (current) => {
        if (current?.pending?.requestId !== oldest.requestId) return unchanged;
        const { pending: _dropped, ...rest } = current;
        return settled(rest);
      });
    }
  }

  #deviceIdOf(requestId: string): string | undefined {
    return this.#all("pending").find((request) => request.requestId === requestId)?.deviceId;
  }

  /** Approve a pending request: the device is paired with the role and scopes asked (added to what it had). */
  async approve(requestId: string): Promise<{ request: PendingDeviceRequest; device: PairedDeviceRecord } | undefined> {
    this.expire();
    const deviceId = this.#deviceIdOf(requestId);
    if (deviceId === undefined) return undefined;
    let result: { request: PendingDeviceRequest; device: PairedDeviceRecord } | undefined;
    await this.#change(deviceId, (current) => {
      result = undefined;
      const request = current?.pending;
      if (!request || request.requestId !== requestId || request.expiresAtMs <= this.#now()) return unchanged;
      const device = this.#pair(current.device, request);
      result = { request, device };
      const { pending: _approved, ...rest } = current;
      return { ...rest, device };
    });
    return result && { request: result.request, device: structuredClone(result.device) };
  }

  /** The device as paired after approving `request` (what it had, widened by what it asked). */
  #pair(existing: PairedDeviceRecord | undefined, request: PendingDeviceRequest): PairedDeviceRecord {
    const metadata = defined({
      displayName: request.displayName,
      platform: request.platform,
      deviceFamily: request.deviceFamily,
      clientId: request.clientId,
      clientMode: request.clientMode,
    });
    if (existing) {
      const tokens = { ...existing.tokens };
      // The operator approved what the device asked for: its token of that role carries it from now on.
      const token = tokens[request.role];
      if (token && request.role === "operator")
        tokens[request.role] = { ...token, scopes: union(token.scopes, request.scopes) };
      return {
        ...existing,
        ...metadata,
        publicKey: request.publicKey,
        roles: union(existing.roles, [request.role]),
        scopes: union(existing.scopes, request.scopes),
        tokens,
      };
    }
    return {
      deviceId: request.deviceId,
      publicKey: request.publicKey,
      ...metadata,
      roles: [request.role],
      scopes: [...request.scopes],
      tokens: {},
      pairedAtMs: this.#now(),
    };
  }

  /** Pair without asking (silent local approval): one write for the request and its approval. */
  async approveDirect(input: DeviceRequestInput): Promise<PairedDeviceRecord> {
    let device!: PairedDeviceRecord;
    await this.#change(input.deviceId, (current) => {
      const time = this.#now();
      device = this.#pair(current?.device, {
        ...input,
        scopes: [...input.scopes],
        requestId: "direct",
        isRepair: false,
        ts: time,
        expiresAtMs: time,
      });
      const { pending: _superseded, ...rest } = current ?? {};
      return { ...rest, device };
    });
    return structuredClone(device);
  }

  /** Reject a pending request. */
  async reject(requestId: string): Promise<PendingDeviceRequest | undefined> {
    this.expire();
    const deviceId = this.#deviceIdOf(requestId);
    if (deviceId === undefined) return undefined;
    let rejected: PendingDeviceRequest | undefined;
    await this.#change(deviceId, (current) => {
      rejected = undefined;
      if (current?.pending?.requestId !== requestId) return unchanged;
      rejected = current.pending;
      const { pending: _rejected, ...rest } = current;
      return settled(rest);
    });
    return rejected;
  }

  /** Forget a device: its pairing, its tokens, its node approval and anything it has pending. */
  async remove(deviceId: string): Promise<boolean> {
    return this.#change(deviceId, (current) => (current === undefined ? unchanged : undefined), revokeNote(undefined));
  }

  /**
   * Issue a new token for a paired device and role (the previous one of that role stops working). Its scopes are
   * the approved ones, narrowed to `scopes` when given; undefined when the device is not approved for the role or
   * asks for scopes beyond the approval. `rotate`: the other instances close the device's connections of that role.
   */
  async issueToken(
    deviceId: string,
    role: string,
    scopes?: readonly string[],
    options: { rotate?: boolean } = {},
  ): Promise<IssuedDeviceToken | undefined> {
    if (!this.device(deviceId)?.roles.includes(role)) return undefined;
    const token = randomBytes(32).toString("base64url");
    let issued: IssuedDeviceToken | undefined;
    await this.#change(
      deviceId,
      (current) => {
        issued = undefined;
        const device = current?.device;
        if (!device?.roles.includes(role)) return unchanged;
        const approved = role === "operator" ? device.scopes : [];
        if (scopes && !scopesCover(approved, scopes)) return unchanged;
        const granted = scopes ? [...scopes] : [...approved];
        const issuedAtMs = this.#now();
        issued = { token, role, scopes: granted, issuedAtMs };
        return {
          ...current,
          device: {
            ...device,
            tokens: { ...device.tokens, [role]: { hash: hashToken(token), scopes: granted, issuedAtMs } },
          },
        };
      },
      options.rotate ? revokeNote(role) : undefined,
    );
    return issued;
  }

  /** The scopes a presented device token carries, or undefined when it is not this device's token for `role`. */
  verifyToken(deviceId: string, role: string, token: string): { scopes: string[]; issuedAtMs: number } | undefined {
    const record = this.device(deviceId)?.tokens[role];
    if (!record || !tokenMatches(token, record.hash)) return undefined;
    return { scopes: [...record.scopes], issuedAtMs: record.issuedAtMs };
  }

  /** Revoke a device's token for a role; whether there was one. */
  async revokeToken(deviceId: string, role: string): Promise<boolean> {
    if (!this.device(deviceId)?.tokens[role]) return false;
    return this.#change(
      deviceId,
      (current) => {
        const device = current?.device;
        if (!device?.tokens[role]) return unchanged;
        const { [role]: _revoked, ...tokens } = device.tokens;
        return { ...current, device: { ...device, tokens } };
      },
      revokeNote(role),
    );
  }

  /** Note that a device connected (kept in the background; losing it costs nothing). */
  touch(deviceId: string): void {
    if (!this.device(deviceId)) return;
    const time = this.#now();
    void this.#change(deviceId, (current) =>
      current?.device ? { ...current, device: { ...current.device, lastSeenAtMs: time } } : unchanged,
    ).catch(() => undefined);
  }

  // ---- nodes: the command surface a device declares as a node, approved by an operator

  /** Pending node requests. */
  pendingNodes(): PendingNodeRequest[] {
    this.expire();
    return this.#all("pendingNode").sort((a, b) => a.ts - b.ts);
  }

  /** Devices whose node surface was approved. */
  pairedNodes(): Array<PairedDeviceRecord & { node: NodeApproval }> {
    return this.#all("device").filter((device): device is PairedDeviceRecord & { node: NodeApproval } =>
      Boolean(device.node),
    );
  }

  /** Ask for approval of a node's declared surface (the pending one is replaced by what it declares now). */
  async requestNode(input: NodeRequestInput): Promise<{ request: PendingNodeRequest; created: boolean }> {
    this.expire();
    let result!: { request: PendingNodeRequest; created: boolean };
    await this.#change(input.nodeId, (current) => {
      const time = this.#now();
      const existing = current?.pendingNode && current.pendingNode.expiresAtMs > time ? current.pendingNode : undefined;
      const same =
        existing !== undefined &&
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
      result = { request, created: !same };
      return { ...current, pendingNode: request };
    });
    const pending = this.pendingNodes();
    for (const oldest of pending.slice(0, Math.max(0, pending.length - DEVICE_PAIRING_MAX_PENDING))) {
      await this.rejectNode(oldest.requestId);
    }
    return { request: { ...result.request }, created: result.created };
  }

  #nodeIdOf(requestId: string): string | undefined {
    return this.#all("pendingNode").find((request) => request.requestId === requestId)?.nodeId;
  }

  /** Approve a node request: its commands and caps become its approved surface. */
  async approveNode(
    requestId: string,
  ): Promise<{ request: PendingNodeRequest; device: PairedDeviceRecord & { node: NodeApproval } } | undefined> {
    this.expire();
    const nodeId = this.#nodeIdOf(requestId);
    if (nodeId === undefined) return undefined;
    let result: { request: PendingNodeRequest; device: PairedDeviceRecord & { node: NodeApproval } } | undefined;
    await this.#change(nodeId, (current) => {
      result = undefined;
      const request = current?.pendingNode;
      const device = current?.device;
      if (!request || request.requestId !== requestId || !device) return unchanged;
      const node: NodeApproval = defined({
        displayName: device.node?.displayName ?? request.displayName,
        platform: request.platform,
        version: request.version,
        caps: [...request.caps],
        commands: [...request.commands],
        pairedAtMs: this.#now(),
      });
      result = { request, device: { ...device, node } };
      const { pendingNode: _approved, ...rest } = current;
      return { ...rest, device: result.device };
    });
    return result && { request: result.request, device: structuredClone(result.device) };
  }

  /** Reject a node request. */
  async rejectNode(requestId: string): Promise<PendingNodeRequest | undefined> {
    const nodeId = this.#nodeIdOf(requestId);
    if (nodeId === undefined) return undefined;
    let rejected: PendingNodeRequest | undefined;
    await this.#change(nodeId, (current) => {
      rejected = undefined;
      if (current?.pendingNode?.requestId !== requestId) return unchanged;
      rejected = current.pendingNode;
      const { pendingNode: _rejected, ...rest } = current;
      return settled(rest);
    });
    return rejected;
  }

  /** Rename a paired node; false when there is no such node. */
  async renameNode(nodeId: string, displayName: string): Promise<boolean> {
    if (!this.device(nodeId)?.node) return false;
    return this.#change(nodeId, (current) => {
      const device = current?.device;
      if (!device?.node) return unchanged;
      return { ...current, device: { ...device, node: { ...device.node, displayName } } };
    });
  }

  /** Resolves when every change to the file is on disk. */
  flush(): Promise<void> {
    return this.#file.flush();
  }
}
