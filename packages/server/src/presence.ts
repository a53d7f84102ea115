import type { PresenceEntry } from "@gateway/protocol";

/** Bounds of the presence list: every field, the number of entries, how long departed clients stay. */
export interface PresenceLimits {
  /** Entries kept (the gateway's own is never dropped); the oldest go first. @default 200 (as the reference) */
  maxEntries: number;
  /** An entry not updated for this long is removed. @default 300000 */
  ttlMs: number;
  /** An entry whose client disconnected cleanly is removed this soon. @default 30000 */
  departedTtlMs: number;
}

/**
 * The presence list as several instances share it (a fleet): this instance's own entries go out as changes, the
 * entries of the others come in and are listed beside them. Owned by the server; the transport is the caller's.
 */
export interface SharedPresence {
  /** See every change of this instance's own entries: set (the whole entry) or removed (`undefined`). */
  onChange(listener: (key: string, entry: PresenceEntry | undefined) => void): () => void;
  /** This instance's own entries now, by key (to publish them whole once, e.g. after Redis came back). */
  ownEntries(): Array<[string, PresenceEntry]>;
  /** Show the entry `key` of instance `origin` (or remove it with `undefined`); listed until removed. */
  setRemote(origin: string, key: string, entry: PresenceEntry | undefined): void;
  /** Remove every entry of instance `origin` (it left or died). */
  dropRemote(origin: string): void;
  /** Add `tag` to this instance's own entries in lists (`fleet:<id>`: which instance a client is on). */
  tagOwn(tag: string): void;
}

const MAX_TEXT = 256;
const MAX_TAGS = 16;
const MAX_TAG = 64;

const clip = (value: string | undefined, max = MAX_TEXT) =>
  value === undefined ? undefined : value.length > max ? value.slice(0, max) : value;

/** An entry with every string and list bounded: no client can make presence large. */
function bounded(entry: Omit<PresenceEntry, "ts">): Omit<PresenceEntry, "ts"> {
  const result: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(entry)) {
    if (value === undefined) continue;
    if (typeof value === "string") result[key] = clip(value, key === "text" ? 1024 : MAX_TEXT);
    else if (Array.isArray(value))
      result[key] = value.slice(0, MAX_TAGS).map((item) => (typeof item === "string" ? clip(item, MAX_TAG) : item));
    else result[key] = value;
  }
  return result as Omit<PresenceEntry, "ts">;
}

/**
 * The presence list: entries keyed by instance id (case-insensitive), each field bounded, at most `maxEntries` (the
 * oldest dropped first), expiring `ttlMs` after their last update — or `departedTtlMs` after a clean disconnect. The
 * gateway's own entry never expires. `version` increases on every change.
 */
export class PresenceStore implements SharedPresence {
  readonly #entries = new Map<string, PresenceEntry>();
  readonly #departed = new Map<string, number>();
  /** Entries of other instances, by instance, then key (each instance bounds its own list). */
  readonly #remote = new Map<string, Map<string, PresenceEntry>>();
  readonly #listeners = new Set<(key: string, entry: PresenceEntry | undefined) => void>();
  #ownTag: string | undefined;
  #version = 0;

  constructor(
    private readonly limits: PresenceLimits,
    private readonly selfKey: string,
    private readonly now: () => number = Date.now,
  ) {}

  get version(): number {
    return this.#version;
  }

  get size(): number {
    return this.#entries.size;
  }

  /** Insert or merge an entry and stamp it now. A loopback address never replaces an address the client reported. */
  upsert(key: string, entry: Omit<PresenceEntry, "ts">): void {
    const id = key.toLowerCase();
    const previous = this.#entries.get(id);
    const next = bounded(entry);
    if (previous?.ip && next.ip && isLoopbackAddress(next.ip)) delete next.ip;
    this.#entries.delete(id); // re-inserted last: the map stays in update order, oldest first
    const stored = { ...previous, ...next, instanceId: clip(entry.instanceId ?? key)!, ts: this.now() };
    this.#entries.set(id, stored);
    this.#departed.delete(id);
    this.#emit(id, stored);
    const self = this.selfKey.toLowerCase();
    while (this.#entries.size > this.limits.maxEntries) {
      let oldest: string | undefined;
      for (const candidate of this.#entries.keys()) {
        if (candidate === self) continue;
        oldest = candidate;
        break;
      }
      if (oldest === undefined) break;
      this.#entries.delete(oldest);
      this.#departed.delete(oldest);
      this.#emit(oldest, undefined);
    }
    this.#version++;
  }

  /** The client of `key` disconnected cleanly: its entry says so and goes after `departedTtlMs`. */
  depart(key: string): void {
    const id = key.toLowerCase();
    if (!this.#entries.has(id)) return;
    this.upsert(key, { reason: "disconnect" });
    this.#departed.set(id, this.now() + this.limits.departedTtlMs);
  }

  /** Remove expired entries; returns whether anything changed. */
  sweep(): boolean {
    const now = this.now();
    const cutoff = now - this.limits.ttlMs;
    const self = this.selfKey.toLowerCase();
    let changed = false;
    for (const [key, entry] of this.#entries) {
      if (key === self) continue;
      const departedAt = this.#departed.get(key);
      if (entry.ts < cutoff || (departedAt !== undefined && departedAt <= now)) {
        this.#entries.delete(key);
        this.#departed.delete(key);
        this.#emit(key, undefined);
        changed = true;
      }
    }
    if (changed) this.#version++;
    return changed;
  }

  /** The current list, newest first (with the entries of other instances, when shared). */
  list(): PresenceEntry[] {
    const own = [...this.#entries.values()].reverse().map((entry) => this.#tagged(entry));
    if (this.#remote.size === 0) return own;
    const all = own.concat(...[...this.#remote.values()].map((entries) => [...entries.values()]));
    return all.sort((a, b) => b.ts - a.ts);
  }

  /** The gateway's own entry (what clients that do not show presence get in their snapshot). */
  self(): PresenceEntry[] {
    const entry = this.#entries.get(this.selfKey.toLowerCase());
    return entry ? [this.#tagged(entry)] : [];
  }

  onChange(listener: (key: string, entry: PresenceEntry | undefined) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  ownEntries(): Array<[string, PresenceEntry]> {
    return [...this.#entries];
  }

  setRemote(origin: string, key: string, entry: PresenceEntry | undefined): void {
    let entries = this.#remote.get(origin);
    if (entry === undefined) {
      if (!entries?.delete(key)) return;
      if (entries.size === 0) this.#remote.delete(origin);
    } else {
      if (!entries) {
        entries = new Map();
        this.#remote.set(origin, entries);
      }
      entries.delete(key);
      entries.set(key, entry);
      // An instance bounds its own list; this bound only holds if one misbehaves.
      if (entries.size > this.limits.maxEntries) entries.delete(entries.keys().next().value!);
    }
    this.#version++;
  }

  dropRemote(origin: string): void {
    if (this.#remote.delete(origin)) this.#version++;
  }

  tagOwn(tag: string): void {
    this.#ownTag = clip(tag, MAX_TAG);
  }

  #tagged(entry: PresenceEntry): PresenceEntry {
    const tag = this.#ownTag;
    if (tag === undefined || entry.tags?.includes(tag)) return entry;
    return { ...entry, tags: [...(entry.tags ?? []).slice(0, MAX_TAGS - 1), tag] };
  }

  #emit(key: string, entry: PresenceEntry | undefined): void {
    for (const listener of this.#listeners) listener(key, entry);
  }
}

function isLoopbackAddress(address: string): boolean {
  return address === "::1" || address.startsWith("127.") || address.startsWith("::ffff:127.");
}
