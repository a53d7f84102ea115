import { randomInt } from "node:crypto";
import { existsSync, mkdirSync, renameSync } from "node:fs";
import { join } from "node:path";
import { JsonStateFile, type StateFileProblem } from "@gateway/state";
import { type Static, Type } from "@sinclair/typebox";
import { FileRecordStorage, RecordMirror, type RecordStorage, unchanged } from "./record-storage.js";

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

/** What one channel account has: the codes pending for it and the senders approved by pairing (one atomic unit). */
export const DmPairingAccount = Type.Object({
  pending: Type.Array(DmPairingRequest),
  approved: Type.Array(Type.String()),
});
export type DmPairingAccount = Static<typeof DmPairingAccount>;

const accountKey = (channel: string, accountId: string): string => `${channel}:${accountId}`;

const dmPairingFileShape = {
  toRecords(file: DmPairingFile): Map<string, DmPairingAccount> {
    const accounts = new Map<string, DmPairingAccount>();
    const account = (key: string) => accounts.get(key) ?? accounts.set(key, { pending: [], approved: [] }).get(key)!;
    for (const request of file.pending) account(accountKey(request.channel, request.accountId)).pending.push(request);
    for (const [key, senders] of Object.entries(file.approved)) account(key).approved = [...senders];
    return accounts;
  },
  fromRecords(accounts: ReadonlyMap<string, DmPairingAccount>): DmPairingFile {
    const all = [...accounts.entries()];
    return {
      version: 1,
      pending: all.flatMap(([, account]) => account.pending),
      approved: Object.fromEntries(
        all.filter(([, account]) => account.approved.length > 0).map(([key, account]) => [key, account.approved]),
      ),
    };
  },
};

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
 * DM pairing codes and the senders they approved, in `<state>/credentials/dm-pairing.json` (mode 0600), or — in a
 * fleet — in a shared storage every instance reads (`share()`), so a code issued by the instance that runs an account
 * can be approved on any, and the approval holds wherever the account runs next. A code is 8 characters without
 * ambiguous ones, lives one hour, and an account has at most 3 pending. Decisions are made on the records held in
 * memory (a stranger's message never waits for a disk sync or Redis to be judged); a change that must be durable
 * before it is acted on (a new code, an approval) resolves once it is stored.
 */
export class DmPairingStore {
  readonly #file: JsonStateFile<typeof DmPairingFile>;
  readonly #now: () => number;
  readonly #records: RecordMirror<DmPairingAccount>;

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
    this.#records = new RecordMirror(new FileRecordStorage(this.#file, dmPairingFileShape));
  }

  get path(): string {
    return this.#file.path;
  }

  /** Set when the file could not be used at start: where it was moved, and why. */
  get problem(): StateFileProblem | undefined {
    return this.#file.problem;
  }

  /** Keep the records in `storage` from now on (a fleet's; the first instance carries its file's over). */
  share(storage: RecordStorage<DmPairingAccount>): Promise<{ imported: number }> {
    return this.#records.share(storage);
  }

  /** Decide on nothing until `share()` has read the shared records (a fleet, at start). */
  awaitShare(reason: string): void {
    this.#records.awaitShare(reason);
  }

  /** Resolves once senders can be judged (at once with the file; in a fleet, once the shared records are read). */
  ready(): Promise<void> {
    return this.#records.ready();
  }

  /** Why the records may be out of date right now (a shared storage cut off from its peers), if so. */
  staleness(): string | undefined {
    return this.#records.staleness();
  }

  #live(request: DmPairingRequest, time = this.#now()): boolean {
    return request.expiresAt > time;
  }

  /**
   * A code for an unknown sender: a new one (resolved once it is stored, so a code is never sent that a restart
   * would forget), the one still pending, or none when the account has 3 pending.
   */
  async request(
    channel: string,
    accountId: string,
    sender: { id: string; name?: string },
    peer: string,
  ): Promise<DmPairingOutcome> {
    const key = accountKey(channel, accountId);
    const held = this.#records
      .get(key)
      ?.pending.find((request) => request.senderId === sender.id && this.#live(request));
    if (held) {
      const lastSeenAt = this.#now();
      // Only a timestamp: its loss costs nothing, and the message does not wait for it.
      void this.#records
        .change(key, (current) => {
          const pending = current?.pending.find((request) => request.code === held.code);
          if (!current || !pending) return unchanged;
          return {
            ...current,
            pending: current.pending.map((request) => (request === pending ? { ...request, lastSeenAt } : request)),
          };
        })
        .catch(() => undefined);
      return { kind: "pending", request: { ...held, lastSeenAt } };
    }
    const taken = new Set(
      [...this.#records.entries()].flatMap(([, account]) => account.pending.map((request) => request.code)),
    );
    let outcome!: DmPairingOutcome;
    await this.#records.change(key, (current) => {
      const time = this.#now();
      const pending = (current?.pending ?? []).filter((request) => this.#live(request, time));
      const existing = pending.find((request) => request.senderId === sender.id);
      if (existing) {
        outcome = { kind: "pending", request: existing };
        return unchanged;
      }
      if (pending.length >= PAIRING_PENDING_PER_ACCOUNT) {
        outcome = { kind: "limited" };
        return unchanged;
      }
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
      outcome = { kind: "created", request };
      return { approved: current?.approved ?? [], pending: [...pending, request] };
    });
    return outcome;
  }

  /** Pending requests (unexpired), optionally of one channel/account. */
  list(filter: { channel?: string; accountId?: string } = {}): DmPairingRequest[] {
    const time = this.#now();
    return [...this.#records.entries()]
      .flatMap(([, account]) => account.pending)
      .filter(
        (request) =>
          this.#live(request, time) &&
          (!filter.channel || request.channel === filter.channel) &&
          (!filter.accountId || request.accountId === filter.accountId),
      );
  }

  /**
   * Approve by code (any case, spaces ignored): the sender is allowed from now on, resolved once that is stored.
   * Undefined: no such pending code.
   */
  async approve(channel: string, code: string, accountId?: string): Promise<DmPairingRequest | undefined> {
    const wanted = code.replace(/\s+/g, "").toUpperCase();
    const found = this.list({ channel, ...(accountId ? { accountId } : {}) }).find(
      (request) => request.code === wanted,
    );
    if (!found) return undefined;
    let approved: DmPairingRequest | undefined;
    await this.#records.change(accountKey(found.channel, found.accountId), (current) => {
      approved = undefined;
      const time = this.#now();
      const request = current?.pending.find((candidate) => candidate.code === wanted && this.#live(candidate, time));
      if (!current || !request) return unchanged;
      approved = request;
      return {
        pending: current.pending.filter((candidate) => candidate !== request && this.#live(candidate, time)),
        approved: [...new Set([...current.approved, request.senderId])],
      };
    });
    return approved;
  }

  isApproved(channel: string, accountId: string, senderId: string): boolean {
    return this.#records.get(accountKey(channel, accountId))?.approved.includes(senderId) ?? false;
  }

  /** Senders approved by pairing for an account. */
  approved(channel: string, accountId: string): string[] {
    return [...(this.#records.get(accountKey(channel, accountId))?.approved ?? [])];
  }

  /** Resolves when every change to the file is on disk (shutdown). */
  flush(): Promise<void> {
    return this.#file.flush();
  }
}
