import { randomInt } from "node:crypto";
import { mkdirSync, readFileSync, renameSync } from "node:fs";
import { join } from "node:path";
import { writeFileAtomicSync } from "@gateway/state";

/** Letters and digits a person cannot confuse: no 0/O, no 1/I. */
export const PAIRING_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789";
export const PAIRING_CODE_LENGTH = 8;
export const PAIRING_TTL_MS = 60 * 60_000;
export const PAIRING_PENDING_PER_ACCOUNT = 3;

/** A sender waiting for approval. */
export interface PairingRequest {
  code: string;
  channel: string;
  accountId: string;
  senderId: string;
  senderName: string;
  /** Where to notify the sender when approved. */
  peer: string;
  createdAt: number;
  lastSeenAt: number;
  expiresAt: number;
}

interface PairingFile {
  version: 1;
  pending: PairingRequest[];
  /** Approved sender ids by `<channel>:<accountId>`. */
  approved: Record<string, string[]>;
}

/** What a message from an unknown sender gets. */
export type PairingOutcome =
  | { kind: "created"; request: PairingRequest }
  | { kind: "pending"; request: PairingRequest }
  | { kind: "limited" };

export const newPairingCode = (): string =>
  Array.from({ length: PAIRING_CODE_LENGTH }, () => PAIRING_ALPHABET[randomInt(PAIRING_ALPHABET.length)]).join("");

/**
 * DM pairing codes and the senders they approved, in `<state>/channels/pairing.json` (written atomically, mode
 * 0600). A code is 8 characters without ambiguous ones, lives one hour, and an account has at most 3 pending.
 */
export class PairingStore {
  readonly path: string;
  #data: PairingFile;

  constructor(
    stateDir: string,
    private readonly now: () => number = Date.now,
  ) {
    const directory = join(stateDir, "channels");
    mkdirSync(directory, { recursive: true, mode: 0o700 });
    this.path = join(directory, "pairing.json");
    this.#data = this.#read();
  }

  #read(): PairingFile {
    let text: string;
    try {
      text = readFileSync(this.path, "utf8");
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "ENOENT")
        throw new Error(`${this.path}: ${(error as Error).message}`);
      return { version: 1, pending: [], approved: {} };
    }
    try {
      const parsed = JSON.parse(text) as Partial<PairingFile>;
      if (!Array.isArray(parsed.pending ?? []) || typeof (parsed.approved ?? {}) !== "object")
        throw new Error("not a pairing file");
      return { version: 1, pending: parsed.pending ?? [], approved: parsed.approved ?? {} };
    } catch (error) {
      // Unreadable (edited by hand, say): kept aside for the operator, and nobody is approved until re-paired.
      const aside = `${this.path}.corrupt-${Date.now()}`;
      renameSync(this.path, aside);
      this.corruptFile = { path: aside, error: (error as Error).message };
      return { version: 1, pending: [], approved: {} };
    }
  }

  /** Set when the file could not be read at start: where it was moved, and why. */
  corruptFile: { path: string; error: string } | undefined;

  #save(): void {
    writeFileAtomicSync(this.path, `${JSON.stringify(this.#data, null, 2)}\n`, { mode: 0o600 });
  }

  #prune(): boolean {
    const before = this.#data.pending.length;
    const time = this.now();
    this.#data.pending = this.#data.pending.filter((request) => request.expiresAt > time);
    return this.#data.pending.length !== before;
  }

  /** A code for an unknown sender: a new one, the one still pending, or none when the account has 3 pending. */
  request(channel: string, accountId: string, sender: { id: string; name?: string }, peer: string): PairingOutcome {
    const pruned = this.#prune();
    const time = this.now();
    const existing = this.#data.pending.find(
      (request) => request.channel === channel && request.accountId === accountId && request.senderId === sender.id,
    );
    if (existing) {
      existing.lastSeenAt = time;
      this.#save();
      return { kind: "pending", request: existing };
    }
    const pendingHere = this.#data.pending.filter(
      (request) => request.channel === channel && request.accountId === accountId,
    );
    if (pendingHere.length >= PAIRING_PENDING_PER_ACCOUNT) {
      if (pruned) this.#save();
      return { kind: "limited" };
    }
    const taken = new Set(this.#data.pending.map((request) => request.code));
    let code = newPairingCode();
    while (taken.has(code)) code = newPairingCode();
    const request: PairingRequest = {
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
    this.#save();
    return { kind: "created", request };
  }

  /** Pending requests (unexpired), optionally of one channel/account. */
  list(filter: { channel?: string; accountId?: string } = {}): PairingRequest[] {
    if (this.#prune()) this.#save();
    return this.#data.pending.filter(
      (request) =>
        (!filter.channel || request.channel === filter.channel) &&
        (!filter.accountId || request.accountId === filter.accountId),
    );
  }

  /** Approve by code (any case, spaces ignored): the sender is allowed from now on. Undefined: no such pending code. */
  approve(channel: string, code: string, accountId?: string): PairingRequest | undefined {
    this.#prune();
    const wanted = code.replace(/\s+/g, "").toUpperCase();
    const index = this.#data.pending.findIndex(
      (request) =>
        request.channel === channel && request.code === wanted && (!accountId || request.accountId === accountId),
    );
    if (index < 0) return undefined;
    const [request] = this.#data.pending.splice(index, 1) as [PairingRequest];
    const key = `${request.channel}:${request.accountId}`;
    this.#data.approved[key] = [...new Set([...(this.#data.approved[key] ?? []), request.senderId])];
    this.#save();
    return request;
  }

  isApproved(channel: string, accountId: string, senderId: string): boolean {
    return this.#data.approved[`${channel}:${accountId}`]?.includes(senderId) ?? false;
  }

  /** Senders approved by pairing for an account. */
  approved(channel: string, accountId: string): string[] {
    return [...(this.#data.approved[`${channel}:${accountId}`] ?? [])];
  }
}
