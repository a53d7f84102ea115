import type { JsonStateFile } from "@gateway/state";
import type { Static, TSchema } from "@sinclair/typebox";

/** What a change returns to leave the record as it is (nothing is written). */
export const unchanged: unique symbol = Symbol("unchanged");

/**
 * One record's change: it gets the record as stored now and returns the new one (undefined deletes it) or
 * `unchanged`. A shared storage may call it again when another writer changed the record meanwhile, so it must not
 * act on anything but its argument (capture results in variables it overwrites).
 */
export type RecordChange<T> = (current: T | undefined) => T | undefined | typeof unchanged;

/** Told when another writer (another gateway instance) changed a record; `note` is what that writer attached. */
export type RecordListener<T> = (id: string, record: T | undefined, note: string | undefined) => void;

/**
 * Where a pairing store keeps its records, one per id. The state file is the default; a fleet passes a shared one
 * (Redis) so that every instance sees the same records. Each change touches one record and is atomic: two writers
 * changing the same record at once both land, one after the other.
 */
export interface RecordStorage<T> {
  /** Every record, by id. */
  load(): Promise<Map<string, T>>;
  /** Change one record; resolves with the record as stored and whether it changed. `note` rides along to watchers. */
  update(id: string, change: RecordChange<T>, note?: string): Promise<{ changed: boolean; record: T | undefined }>;
  /** Bring these records in when the storage never had any (resolves with how many); a shared storage only. */
  seed?(records: ReadonlyMap<string, T>): Promise<number>;
  /** Follow what other writers change (a shared storage; the file has no other writer). */
  watch?(listener: RecordListener<T>): void;
  /** Why the records held here may be out of date right now (a shared storage cut off from its peers), if so. */
  staleness?(): string | undefined;
}

/** How a state file's shape maps to records by id and back. */
export interface FileRecordsShape<S extends TSchema, T> {
  toRecords(file: Static<S>): Map<string, T>;
  fromRecords(records: ReadonlyMap<string, T>): Static<S>;
}

/**
 * Records kept in one state file of this machine: changed in memory at once and written as a whole (the file's
 * serial writer keeps the newest); a write that fails puts the record back as it was and rejects.
 */
export class FileRecordStorage<S extends TSchema, T> implements RecordStorage<T> {
  readonly #records: Map<string, T>;

  constructor(
    private readonly file: JsonStateFile<S>,
    private readonly shape: FileRecordsShape<S, T>,
  ) {
    this.#records = shape.toRecords(file.read());
  }

  /** The records as read at start (synchronous, for a store's constructor). */
  snapshot(): Map<string, T> {
    return new Map(this.#records);
  }

  async load(): Promise<Map<string, T>> {
    return this.snapshot();
  }

  async update(id: string, change: RecordChange<T>): Promise<{ changed: boolean; record: T | undefined }> {
    const before = this.#records.get(id);
    const next = change(before === undefined ? undefined : structuredClone(before));
    if (next === unchanged) return { changed: false, record: before };
    this.#set(id, next);
    try {
      await this.file.write(this.shape.fromRecords(this.#records));
    } catch (error) {
      if (this.#records.get(id) === next) this.#set(id, before);
      throw error;
    }
    return { changed: true, record: next };
  }

  #set(id: string, record: T | undefined): void {
    if (record === undefined) this.#records.delete(id);
    else this.#records.set(id, record);
  }
}

/** Told about a record another instance changed: what was held before, what is held now, the writer's note. */
export type RemoteChangeListener<T> = (
  id: string,
  before: T | undefined,
  after: T | undefined,
  note: string | undefined,
) => void;

/**
 * The records a store decides on, held in memory (reads never wait), kept in a storage: the state file at first,
 * a fleet's shared storage after `share()`. Changes go to the storage first and are held once it has them.
 */
export class RecordMirror<T> {
  #storage: RecordStorage<T>;
  #records: Map<string, T>;
  #awaiting: string | undefined;
  #ready: Promise<void> = Promise.resolve();
  #shared: (() => void) | undefined;

  constructor(file: RecordStorage<T> & { snapshot(): Map<string, T> }) {
    this.#storage = file;
    this.#records = file.snapshot();
  }

  get(id: string): T | undefined {
    return this.#records.get(id);
  }

  /** Every record held, with its id. */
  entries(): IterableIterator<[string, T]> {
    return this.#records.entries();
  }

  /** Hold a record without storing it (what the storage already has, or a local view such as an expiry). */
  hold(id: string, record: T | undefined): void {
    if (record === undefined) this.#records.delete(id);
    else this.#records.set(id, record);
  }

  /** Change one record in the storage and hold the result; resolves with whether it changed. */
  async change(id: string, change: RecordChange<T>, note?: string): Promise<boolean> {
    const result = await this.#storage.update(id, change, note);
    this.hold(id, result.record);
    return result.changed;
  }

  /** Vouch for nothing until `share()` has read the shared records (`reason` says why meanwhile). */
  awaitShare(reason: string): void {
    this.#awaiting = reason;
    this.#ready = new Promise((resolve) => {
      this.#shared = resolve;
    });
  }

  /** Resolves once the records can be decided on (at once, unless `awaitShare()` waits for a shared storage). */
  ready(): Promise<void> {
    return this.#ready;
  }

  /** Why the records held may be out of date right now, if so. */
  staleness(): string | undefined {
    return this.#awaiting ?? this.#storage.staleness?.();
  }

  /**
   * Keep the records in `storage` from now on: its records replace the file's (which it takes in when it never had
   * any), and other writers' changes are followed.
   */
  async share(storage: RecordStorage<T>, onRemote?: RemoteChangeListener<T>): Promise<{ imported: number }> {
    // The first instance of a fleet carries its records over, so turning fleet mode on loses no pairing.
    const imported = (await storage.seed?.(this.#records)) ?? 0;
    const records = await storage.load();
    this.#storage = storage;
    this.#records = records;
    this.#awaiting = undefined;
    this.#shared?.();
    storage.watch?.((id, record, note) => {
      const before = this.#records.get(id);
      this.hold(id, record);
      onRemote?.(id, before, record, note);
    });
    return { imported };
  }
}
