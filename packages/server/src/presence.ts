import type { PresenceEntry } from "@gateway/protocol";

/**
 * The presence list: entries keyed by instance id, expiring `ttlMs` after their last update. The gateway's own entry
 * never expires. `version` increases on every change.
 */
export class PresenceStore {
  readonly #entries = new Map<string, PresenceEntry>();
  #version = 0;

  constructor(
    private readonly ttlMs: number,
    private readonly selfKey: string,
    private readonly now: () => number = Date.now,
  ) {}

  get version(): number {
    return this.#version;
  }

  /** Insert or merge an entry and stamp it now. */
  upsert(key: string, entry: Omit<PresenceEntry, "ts">): void {
    const previous = this.#entries.get(key);
    this.#entries.set(key, { ...previous, ...entry, instanceId: entry.instanceId ?? key, ts: this.now() });
    this.#version++;
  }

  /** Remove entries older than the TTL; returns whether anything changed. */
  sweep(): boolean {
    const cutoff = this.now() - this.ttlMs;
    let changed = false;
    for (const [key, entry] of this.#entries) {
      if (key !== this.selfKey && entry.ts < cutoff) {
        this.#entries.delete(key);
        changed = true;
      }
    }
    if (changed) this.#version++;
    return changed;
  }

  /** The current list, newest first. */
  list(): PresenceEntry[] {
    return [...this.#entries.values()].sort((a, b) => b.ts - a.ts);
  }
}
