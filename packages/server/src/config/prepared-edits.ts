import type { ConfigWriteResult } from "@gateway/protocol";
import { ProtocolError } from "../errors.js";
import type { CheckedConfigEdit, ConfigEditKind, ConfigManager } from "./config-manager.js";

/** How long a prepared edit holds this instance's config before it is dropped unapplied. @default 10000 */
const HOLD_MS = 10_000;

/**
 * This instance's part in an edit made across several instances (a fleet): `prepare` checks the edit against this
 * instance's file and holds every other edit and reload until `commit` writes it or `abort` drops it (or the hold
 * runs out: an edit whose coordinator died is never applied half-way later). `revert` puts a committed edit back.
 */
export class PreparedConfigEdits {
  readonly #held = new Map<string, { edit: CheckedConfigEdit; release(): void }>();
  /** The file before each committed edit, for a revert (the last few only). */
  readonly #before = new Map<string, string | null>();

  constructor(
    private readonly manager: ConfigManager,
    private readonly holdMs = HOLD_MS,
  ) {}

  /** Check the edit and hold the config; resolves with the hash the file will have. */
  prepare(id: string, kind: ConfigEditKind, raw: string, baseHash: string | undefined): Promise<{ hash: string }> {
    return new Promise((resolve, reject) => {
      void this.manager
        .exclusive(async () => {
          const edit = await this.manager.check(kind, raw, baseHash);
          await new Promise<void>((release) => {
            const timer = setTimeout(() => this.#release(id), this.holdMs);
            timer.unref();
            this.#held.set(id, {
              edit,
              release: () => {
                clearTimeout(timer);
                release();
              },
            });
            resolve({ hash: edit.hash });
          });
        })
        .catch(reject);
    });
  }

  /** Write and apply a prepared edit, then let other edits run again. */
  async commit(id: string): Promise<ConfigWriteResult> {
    const held = this.#held.get(id);
    if (!held) throw new ProtocolError("UNAVAILABLE", "the prepared config edit expired before it was committed");
    try {
      const result = await this.manager.commit(held.edit);
      this.#before.set(id, held.edit.currentText);
      if (this.#before.size > 16) this.#before.delete(this.#before.keys().next().value!);
      return result;
    } finally {
      this.#release(id);
    }
  }

  /** Drop a prepared edit unapplied. */
  abort(id: string): void {
    this.#release(id);
  }

  /** Put the file back as it was before a committed edit (another instance could not apply it). */
  async revert(id: string): Promise<void> {
    if (!this.#before.has(id)) return;
    const text = this.#before.get(id) ?? "";
    this.#before.delete(id);
    await this.manager.writeHere("set", text, this.manager.get().hash ?? undefined);
  }

  #release(id: string): void {
    const held = this.#held.get(id);
    this.#held.delete(id);
    held?.release();
  }
}
