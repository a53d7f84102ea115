import { randomInt } from "node:crypto";
import { existsSync, mkdirSync, renameSync } from "node:fs";
import { join } from "node:path";
import { JsonStateFile, type StateFileProblem } from "@gateway/state";
import { type Static, Type } from "@sinclair/typebox";

/** Letters and digits a person cannot confuse: no 0/O, no 1/I. */
export const PAIRING_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789";
export const PAIRING_CODE_LENGTH = 8;
export const PAIRING_TTL_MS = 60 * 60_000;
export const PAIRING_PENDING_PER_ACCOUNT = 3;

/** A sender waiting for approval. */
export const DmPairingRequest = Type.Object({
  code: Type.String({ minLength: 1 }),
  channel: Type.String({ minLength: 1 }),
  accountId: Type.String({ minLength: 1 }),
  senderId: Type.String({ minLength: 1 }),
  senderName: Type.String(),
  /** Where to notify the sender when approved. */
  peer: Type.String(),
  createdAt: Type.Number(),
  lastSeenAt: Type.Number(),
  expiresAt: Type.Number(),
});
export type DmPairingRequest = Static<typeof DmPairingRequest>;

const DmPairingFile = Type.Object({
  version: Type.Literal(1),
  pending: Type.Array(DmPairingRequest),
  /** Approved sender ids by `<channel>:<accountId>`. */
  approved: Type.Record(Type.String(), Type.Array(Type.String())),
});
type DmPairingFile = Static<typeof DmPairingFile>;

/** What a message from an unknown sender gets. */
export type DmPairingOutcome =
  | { kind: "created"; request: DmPairingRequest }
  | { kind: "pending"; request: DmPairingRequest }
  | { kind: "limited" };

export const newPairingCode = (): string =>
  Array.from({ length: PAIRING_CODE_LENGTH }, () => PAIRING_ALPHABET[randomInt(PAIRING_ALPHABET.length)]).join("");

/** Options of the DM pairing store. */
export interface DmPairingStoreOptions {
  now?: () => number;
  /** Told once when the file on disk was unusable and moved aside (nobody is approved until they pair again). */
  onProblem?: (problem: StateFileProblem) => void;
}

/**
 * DM pairing codes and the senders they approved, in `<state>/credentials/dm-pairing.json` (mode 0600). A code is 8
 * characters without ambiguous ones, lives one hour, and an account has at most 3 pending. Decisions are made in
 * memory; every change is written in the background, one write at a time (a stranger's message never waits for a
 * disk sync on the event loop), and a change that must be durable before it is acted on is awaited by the caller.
 */
export class DmPairingStore {
  readonly #file: JsonStateFile<typeof DmPairingFile>;
  readonly #now: () => number;
  #data: DmPairingFile;

  constructor(stateDir: string, options: DmPairingStoreOptions = {}) {
    const directory = join(stateDir, "credentials");
    mkdirSync(directory, { recursive: true, mode: 0o700 });
    this.#now = options.now ?? Date.now;
    const path = join(directory, "dm-pairing.json");
    // Gateways before 0.2 kept it at <state>/channels/pairing.json: carried over once, so nobody has to pair again.
    const legacy = join(stateDir, "channels", "pairing.json");
    if (!existsSync(path) && existsSync(legacy)) renameSync(legacy, path);
    this.#file = new JsonStateFile(path, {
      schema: DmPairingFile,
      empty: () => ({ version: 1, pending: [], approved: {} }),
      pretty: true,
      ...(options.onProblem ? { onProblem: options.onProblem } : {}),
    });
    this.#data = this.#file.read();
  }

  get path(): string {
    return this.#file.path;
  }

  /** Set when the file could not be used at start: where it was moved, and why. */
  get problem(): StateFileProblem | undefined {
    return this.#file.problem;
  }

  #save(): Promise<void> {
    return this.#file.write(structuredClone(this.#data));
  }

  #prune(): boolean {
    const before = this.#data.pending.length;
    const time = this.#now();
    this.#data.pending = this.#data.pending.filter((request) => request.expiresAt > time);
    return this.#data.pending.length !== before;
  }

  /**
   * A code for an unknown sender: a new one (resolved once it is on disk, so a code is never sent that a restart
   * would forget), the one still pending, or none when the account has 3 pending.
   */
  async request(
    channel: string,
    accountId: string,
    sender: { id: string; name?: string },
    peer: string,
  ): Promise<DmPairingOutcome> {
    const pruned = this.#prune();
    const time = this.#now();
    const existing = this.#data.pending.find(
      (request) => request.channel === channel && request.accountId === accountId && request.senderId === sender.id,
    );
    if (existing) {
      existing.lastSeenAt = time;
      void this.#save().catch(() => undefined); // only a timestamp: its loss costs nothing
      return { kind: "pending", request: existing };
    }
    const pendingHere = this.#data.pending.filter(
      (request) => request.channel === channel && request.accountId === accountId,
    );
    if (pendingHere.length >= PAIRING_PENDING_PER_ACCOUNT) {
      if (pruned) void this.#save().catch(() => undefined);
      return { kind: "limited" };
    }
    const taken = new Set(this.#data.pending.map((request) => request.code));
    let code = newPairingCode();
    while (taken.has(code)) code = newPairingCode();
    const request: DmPairingRequest = {
      code,
      channel,
      accountId,
      senderId: sender.id,
      senderName: sender.name || sender.id,
      peer,
      createdAt: time,
      lastSeenAt: time,
      expiresAt: time + PAIRING_TTL_MS,
    };
    this.#data.pending.push(request);
    try {
      await this.#save();
    } catch (error) {
      this.#data.pending = this.#data.pending.filter((candidate) => candidate !== request);
      throw error;
    }
    return { kind: "created", request };
  }

  /** Pending requests (unexpired), optionally of one channel/account. */
  list(filter: { channel?: string; accountId?: string } = {}): DmPairingRequest[] {
    if (this.#prune()) void this.#save().catch(() => undefined);
    return this.#data.pending.filter(
      (request) =>
        (!filter.channel || request.channel === filter.channel) &&
        (!filter.accountId || request.accountId === filter.accountId),
    );
  }

  /**
   * Approve by code (any case, spaces ignored): the sender is allowed from now on, resolved once that is on disk.
   * Undefined: no such pending code.
   */
  async approve(channel: string, code: string, accountId?: string): Promise<DmPairingRequest | undefined> {
    this.#prune();
    const wanted = code.replace(/\s+/g, "").toUpperCase();
    const index = this.#data.pending.findIndex(
      (request) =>
        request.channel === channel && request.code === wanted && (!accountId || request.accountId === accountId),
    );
    if (index < 0) return undefined;
    const [request] = this.#data.pending.splice(index, 1) as [DmPairingRequest];
    const key = `${request.channel}:${request.accountId}`;
    const before = this.#data.approved[key];
    this.#data.approved[key] = [...new Set([...(before ?? []), request.senderId])];
    try {
      await this.#save();
    } catch (error) {
      this.#data.pending.splice(index, 0, request);
      if (before) this.#data.approved[key] = before;
      else delete this.#data.approved[key];
      throw error;
    }
    return request;
  }

  isApproved(channel: string, accountId: string, senderId: string): boolean {
    return this.#data.approved[`${channel}:${accountId}`]?.includes(senderId) ?? false;
  }

  /** Senders approved by pairing for an account. */
  approved(channel: string, accountId: string): string[] {
    return [...(this.#data.approved[`${channel}:${accountId}`] ?? [])];
  }

  /** Resolves when every change is on disk (shutdown). */
  flush(): Promise<void> {
    return this.#file.flush();
  }
}
