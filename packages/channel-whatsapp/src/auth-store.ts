// WhatsApp's auth state (the creds and the Signal keys) kept by us instead of Baileys' useMultiFileAuthState, which
// its authors call a demo: it writes each key to its own file and the creds separately, so a crash between two writes
// restores a mix of old and new (the reference gateway restored stale keys on every reconnect that way).
//
// Here every change goes, in the order Baileys made it, into one append-only journal of checksummed lines, next to a
// snapshot; creds and keys changed together land in one line. A kill -9 at any moment loses at most the line being
// written, which the next start recognises (bad checksum) and cuts off: what is read back is always the exact state
// Baileys had after some operation. The journal is folded into a new snapshot when it grows (written aside, then
// renamed). A login in progress writes into a directory of its own that becomes the live one only when the login
// completes, with one atomic rename of the `CURRENT` pointer.
import { randomBytes } from "node:crypto";
import { type FileHandle, mkdir, open, readdir, readFile, rename, rm, unlink } from "node:fs/promises";
import { join } from "node:path";
import { crc32 } from "node:zlib";

/** The creds object (Baileys' `AuthenticationCreds`), kept opaque here. */
export type StoredCreds = Record<string, unknown>;
/** Keys by type and id; `null` deletes (Baileys' `SignalDataSet`). */
export type KeyChanges = Record<string, Record<string, unknown>>;

/** Options of an auth store. */
export interface AuthStoreOptions {
  /** Turn a stored value back into what Baileys expects (protobuf objects for `app-state-sync-key`). */
  revive?: (type: string, value: unknown) => unknown;
  /** Fold the journal into a new snapshot past this size. @default 4 MiB */
  compactBytes?: number;
  /** `fdatasync` every journal write (survives power loss, not only a killed process). @default true */
  sync?: boolean;
  /** Reports a failed write (the caller sees the rejection too). */
  onError?: (error: Error) => void;
}

const POINTER = "CURRENT";
const FILE_MODE = 0o600;
const DIR_MODE = 0o700;
const SNAPSHOT = /^snapshot-(\d+)\.json$/;

/** Buffers and byte arrays as `{ type: "Buffer", data: base64 }`, the form Baileys' BufferJSON reads and writes. */
function replacer(this: unknown, _key: string, value: unknown): unknown {
  if (value instanceof Uint8Array) return { type: "Buffer", data: Buffer.from(value).toString("base64") };
  if (value && typeof value === "object" && (value as { type?: unknown }).type === "Buffer") {
    const data = (value as { data?: unknown }).data;
    if (Array.isArray(data)) return { type: "Buffer", data: Buffer.from(data).toString("base64") };
  }
  return value;
}

function reviver(_key: string, value: unknown): unknown {
  if (value && typeof value === "object" && (value as { type?: unknown }).type === "Buffer") {
    const data = (value as { data?: unknown }).data;
    if (typeof data === "string") return Buffer.from(data, "base64");
    if (Array.isArray(data)) return Buffer.from(data);
  }
  return value;
}

/** JSON text of a value, with buffers as base64 (Buffer's own toJSON is bypassed so nothing becomes a number list). */
export const encodeValue = (value: unknown): string =>
  JSON.stringify(value, function (this: Record<string, unknown>, key) {
    return replacer.call(this, key, this[key]);
  });
/** The value back from `encodeValue`'s text. */
export const decodeValue = (text: string): unknown => JSON.parse(text, reviver);

/** The inner map of `type`, created when missing. */
function inner<Value>(outer: Map<string, Map<string, Value>>, type: string): Map<string, Value> {
  let entries = outer.get(type);
  if (!entries) {
    entries = new Map();
    outer.set(type, entries);
  }
  return entries;
}

const journalLine = (json: string) => `${crc32(json).toString(16).padStart(8, "0")} ${json}\n`;

async function syncDirectory(path: string): Promise<void> {
  const handle = await open(path, "r").catch(() => undefined);
  await handle?.sync().catch(() => undefined);
  await handle?.close();
}

/** Write a file whole or not at all: aside, synced, renamed over. */
async function writeAtomic(path: string, content: string): Promise<void> {
  const temporary = `${path}.${randomBytes(4).toString("hex")}.tmp`;
  const handle = await open(temporary, "w", FILE_MODE);
  try {
    await handle.writeFile(content);
    await handle.sync();
  } finally {
    await handle.close();
  }
  await rename(temporary, path);
}

interface Waiter {
  resolve(): void;
  reject(error: Error): void;
}

/**
 * The durable auth state of one account: `creds` (the live object Baileys mutates), `keys` (a `SignalKeyStore`: wrap
 * it in Baileys' `makeCacheableSignalKeyStore`), and `saveCreds()` for `creds.update`. Every `keys.set` resolves once
 * its change is in the journal.
 */
export class AuthStore {
  readonly creds: StoredCreds;
  readonly directory: string;
  readonly #root: string;
  readonly #options: AuthStoreOptions;
  /** Stored keys as JSON text by type and id (decoded on read, so Baileys never shares objects with the store). */
  readonly #keys: Map<string, Map<string, string>>;
  #generation: number;
  #journal: FileHandle | undefined;
  #journalBytes: number;
  #pendingKeys = new Map<string, Map<string, string | null>>();
  #pendingCreds = false;
  #waiters: Waiter[] = [];
  #flushing: Promise<void> | undefined;
  #closed = false;

  private constructor(
    root: string,
    directory: string,
    state: { creds: StoredCreds; keys: Map<string, Map<string, string>>; generation: number; journalBytes: number },
    journal: FileHandle,
    options: AuthStoreOptions,
  ) {
    this.#root = root;
    this.directory = directory;
    this.creds = state.creds;
    this.#keys = state.keys;
    this.#generation = state.generation;
    this.#journal = journal;
    this.#journalBytes = state.journalBytes;
    this.#options = options;
  }

  /** Whether `root` holds linked credentials (a committed auth state). */
  static async exists(root: string): Promise<boolean> {
    return (await readPointer(root)) !== undefined;
  }

  /**
   * Open the committed auth state under `root`; undefined when there is none (never linked, logged out, or only an
   * interrupted login, which is removed here).
   */
  static async open(root: string, options: AuthStoreOptions = {}): Promise<AuthStore | undefined> {
    const current = await readPointer(root);
    await removeOthers(root, current);
    if (!current) return undefined;
    const directory = join(root, current);
    const state = await loadDirectory(directory);
    if (!state) return undefined;
    const journal = await open(join(directory, `journal-${state.generation}.log`), "a", FILE_MODE);
    return new AuthStore(root, directory, state, journal, options);
  }

  /**
   * A new auth state for a login, beside the committed one (which stays live until `commit()`): `discard()` removes
   * it, and an interrupted process leaves nothing that `open` would read.
   */
  static async createStaged(root: string, creds: StoredCreds, options: AuthStoreOptions = {}): Promise<AuthStore> {
    await mkdir(root, { recursive: true, mode: DIR_MODE });
    const directory = join(root, `auth-${Date.now().toString(36)}-${randomBytes(4).toString("hex")}`);
    await mkdir(directory, { mode: DIR_MODE });
    const keys = new Map<string, Map<string, string>>();
    await writeAtomic(join(directory, "snapshot-1.json"), snapshotText(encodeValue(creds), keys));
    const journal = await open(join(directory, "journal-1.log"), "a", FILE_MODE);
    return new AuthStore(root, directory, { creds, keys, generation: 1, journalBytes: 0 }, journal, options);
  }

  /** Remove the credentials under `root` (logout, or 401 from WhatsApp); true when there were some. */
  static async clear(root: string): Promise<boolean> {
    const current = await readPointer(root);
    // The pointer first: from here on nothing is linked, even if removing the files is interrupted.
    await unlink(join(root, POINTER)).catch(() => undefined);
    await syncDirectory(root);
    await removeOthers(root, undefined);
    return current !== undefined;
  }

  /** Make this (staged) state the live one, atomically, and remove every other state under the root. */
  async commit(): Promise<void> {
    await this.flush();
    await writeAtomic(join(this.#root, POINTER), `${this.directory.slice(this.#root.length + 1)}\n`);
    await syncDirectory(this.#root);
    await removeOthers(this.#root, this.directory.slice(this.#root.length + 1));
  }

  /** Close and delete this (staged) state. */
  async discard(): Promise<void> {
    await this.close();
    await rm(this.directory, { recursive: true, force: true });
  }

  /** The `SignalKeyStore` Baileys reads and writes. */
  readonly keys = {
    get: async (type: string, ids: string[]): Promise<Record<string, unknown>> => {
      const stored = this.#keys.get(type);
      const result: Record<string, unknown> = {};
      if (!stored) return result;
      for (const id of ids) {
        const text = stored.get(id);
        if (text === undefined) continue;
        const value = decodeValue(text);
        result[id] = this.#options.revive ? this.#options.revive(type, value) : value;
      }
      return result;
    },
    set: (data: KeyChanges): Promise<void> => {
      for (const [type, entries] of Object.entries(data)) {
        const pending = inner(this.#pendingKeys, type);
        for (const [id, value] of Object.entries(entries ?? {})) {
          const text = value === null || value === undefined ? null : encodeValue(value);
          if (text === null) this.#keys.get(type)?.delete(id);
          else inner(this.#keys, type).set(id, text);
          pending.set(id, text);
        }
      }
      return this.#schedule();
    },
    clear: async (): Promise<void> => {
      for (const [type, stored] of this.#keys) {
        const pending = inner(this.#pendingKeys, type);
        for (const id of stored.keys()) pending.set(id, null);
      }
      this.#keys.clear();
      await this.#schedule();
    },
  };

  /** Store the creds as they are now (call on `creds.update`, after merging the update into `creds`). */
  saveCreds(): Promise<void> {
    this.#pendingCreds = true;
    return this.#schedule();
  }

  /** Resolve once everything changed so far is in the journal. */
  flush(): Promise<void> {
    if (!this.#pendingCreds && this.#pendingKeys.size === 0) return this.#flushing ?? Promise.resolve();
    return this.#schedule();
  }

  /** Write what is pending and close the journal. Idempotent. */
  async close(): Promise<void> {
    if (this.#closed) return;
    await this.flush().catch(() => undefined);
    this.#closed = true;
    const journal = this.#journal;
    this.#journal = undefined;
    await journal?.close().catch(() => undefined);
  }

  /** How many keys of `type` are stored (for tests and status). */
  count(type: string): number {
    return this.#keys.get(type)?.size ?? 0;
  }

  #schedule(): Promise<void> {
    if (this.#closed) return Promise.reject(new Error("the WhatsApp auth store is closed"));
    const done = new Promise<void>((resolve, reject) => this.#waiters.push({ resolve, reject }));
    this.#flushing ??= this.#drain();
    return done;
  }

  /** Write batches until nothing is pending: what arrived during one write goes into the next (group commit). */
  async #drain(): Promise<void> {
    await Promise.resolve(); // let the caller's synchronous burst of changes join this batch
    try {
      while (this.#waiters.length > 0) {
        const waiters = this.#waiters;
        this.#waiters = [];
        try {
          await this.#writeBatch();
          for (const waiter of waiters) waiter.resolve();
        } catch (error) {
          this.#options.onError?.(error as Error);
          for (const waiter of waiters) waiter.reject(error as Error);
        }
      }
    } finally {
      this.#flushing = undefined;
    }
  }

  async #writeBatch(): Promise<void> {
    if (!this.#pendingCreds && this.#pendingKeys.size === 0) return;
    const parts: string[] = [];
    if (this.#pendingKeys.size > 0) {
      const types = [...this.#pendingKeys].map(
        ([type, entries]) =>
          `${JSON.stringify(type)}:{${[...entries].map(([id, text]) => `${JSON.stringify(id)}:${text ?? "null"}`).join(",")}}`,
      );
      parts.push(`"k":{${types.join(",")}}`);
    }
    if (this.#pendingCreds) parts.push(`"c":${encodeValue(this.creds)}`);
    this.#pendingKeys = new Map();
    this.#pendingCreds = false;
    const line = journalLine(`{${parts.join(",")}}`);
    const journal = this.#journal;
    if (!journal) throw new Error("the WhatsApp auth store is closed");
    await journal.write(line);
    if (this.#options.sync !== false) await journal.datasync();
    this.#journalBytes += Buffer.byteLength(line);
    if (this.#journalBytes > (this.#options.compactBytes ?? 4 * 1024 * 1024)) await this.#compact();
  }

  /**
   * Fold the journal into snapshot n+1 (written aside, renamed), then start journal n+1 and drop generation n. The
   * state is copied first (references only, so changes made meanwhile go to the next journal and not half into the
   * snapshot) and written in pieces, so a large state never holds the event loop for long.
   */
  async #compact(): Promise<void> {
    const next = this.#generation + 1;
    const creds = encodeValue(this.creds);
    const copy = [...this.#keys].map(([type, entries]) => [type, [...entries]] as const);
    await writeSnapshot(join(this.directory, `snapshot-${next}.json`), creds, copy);
    await syncDirectory(this.directory);
    const journal = await open(join(this.directory, `journal-${next}.log`), "a", FILE_MODE);
    const previous = this.#journal;
    const generation = this.#generation;
    this.#journal = journal;
    this.#generation = next;
    this.#journalBytes = 0;
    await previous?.close();
    await unlink(join(this.directory, `journal-${generation}.log`)).catch(() => undefined);
    await unlink(join(this.directory, `snapshot-${generation}.json`)).catch(() => undefined);
  }
}

/** Write a snapshot aside in pieces of ~256 KB (yielding between them), sync it, rename it into place. */
async function writeSnapshot(
  path: string,
  credsJson: string,
  keys: ReadonlyArray<readonly [string, ReadonlyArray<readonly [string, string]>]>,
): Promise<void> {
  const temporary = `${path}.${randomBytes(4).toString("hex")}.tmp`;
  const handle = await open(temporary, "w", FILE_MODE);
  try {
    let piece = `{"version":1,"creds":${credsJson},"keys":{`;
    for (const [typeIndex, [type, entries]] of keys.entries()) {
      piece += `${typeIndex ? "," : ""}${JSON.stringify(type)}:{`;
      for (const [index, [id, text]] of entries.entries()) {
        piece += `${index ? "," : ""}${JSON.stringify(id)}:${text}`;
        if (piece.length > 256 * 1024) {
          await handle.write(piece);
          piece = "";
        }
      }
      piece += "}";
    }
    await handle.write(`${piece}}}`);
    await handle.sync();
  } finally {
    await handle.close();
  }
  await rename(temporary, path);
}

function snapshotText(credsJson: string, keys: Map<string, Map<string, string>>): string {
  const types = [...keys].map(
    ([type, entries]) =>
      `${JSON.stringify(type)}:{${[...entries].map(([id, text]) => `${JSON.stringify(id)}:${text}`).join(",")}}`,
  );
  return `{"version":1,"creds":${credsJson},"keys":{${types.join(",")}}}`;
}

async function readPointer(root: string): Promise<string | undefined> {
  const text = await readFile(join(root, POINTER), "utf8").catch(() => undefined);
  const name = text?.trim();
  return name && /^auth-[a-z0-9-]+$/.test(name) ? name : undefined;
}

/** Remove every state directory but `keep` (interrupted logins, replaced states) and stray temporary files. */
async function removeOthers(root: string, keep: string | undefined): Promise<void> {
  const entries = await readdir(root).catch(() => [] as string[]);
  for (const entry of entries)
    if ((entry.startsWith("auth-") && entry !== keep) || entry.endsWith(".tmp"))
      await rm(join(root, entry), { recursive: true, force: true });
}

/** Read the newest snapshot and replay its journal up to the first torn line (which is cut off). */
async function loadDirectory(
  directory: string,
): Promise<
  { creds: StoredCreds; keys: Map<string, Map<string, string>>; generation: number; journalBytes: number } | undefined
> {
  const entries = await readdir(directory).catch(() => [] as string[]);
  const generations = entries
    .map((entry) => SNAPSHOT.exec(entry)?.[1])
    .filter((match): match is string => match !== undefined)
    .map(Number)
    .sort((a, b) => b - a);
  for (const entry of entries) if (entry.endsWith(".tmp")) await rm(join(directory, entry), { force: true });
  const generation = generations[0];
  if (generation === undefined) return undefined;
  const snapshot = JSON.parse(await readFile(join(directory, `snapshot-${generation}.json`), "utf8")) as {
    creds: StoredCreds;
    keys: Record<string, Record<string, unknown>>;
  };
  const keys = new Map<string, Map<string, string>>();
  const apply = (changes: Record<string, Record<string, unknown>>) => {
    for (const [type, entries] of Object.entries(changes)) {
      for (const [id, value] of Object.entries(entries)) {
        if (value === null) keys.get(type)?.delete(id);
        else inner(keys, type).set(id, JSON.stringify(value));
      }
    }
  };
  apply(snapshot.keys);
  let credsJson = JSON.stringify(snapshot.creds);
  const journalPath = join(directory, `journal-${generation}.log`);
  const journal = await readFile(journalPath).catch(() => Buffer.alloc(0));
  let offset = 0;
  while (offset < journal.length) {
    const end = journal.indexOf(0x0a, offset);
    if (end < 0) break;
    const line = journal.subarray(offset, end).toString("utf8");
    const json = line.slice(9);
    if (line[8] !== " " || crc32(json).toString(16).padStart(8, "0") !== line.slice(0, 8)) break;
    const record = JSON.parse(json) as { k?: Record<string, Record<string, unknown>>; c?: StoredCreds };
    if (record.k) apply(record.k);
    if (record.c) credsJson = JSON.stringify(record.c);
    offset = end + 1;
  }
  if (offset < journal.length) {
    // A line torn by a crash: cut it off so appends continue after the last whole one.
    const handle = await open(journalPath, "r+");
    await handle.truncate(offset);
    await handle.sync();
    await handle.close();
  }
  for (const entry of entries) {
    const match = /^(?:snapshot|journal)-(\d+)\.(?:json|log)$/.exec(entry);
    if (match && Number(match[1]) !== generation) await rm(join(directory, entry), { force: true });
  }
  return { creds: decodeValue(credsJson) as StoredCreds, keys, generation, journalBytes: offset };
}
