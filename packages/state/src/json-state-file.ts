import { randomBytes } from "node:crypto";
import { existsSync, readFileSync, renameSync } from "node:fs";
import type { Static, TSchema } from "@sinclair/typebox";
import { TypeCompiler } from "@sinclair/typebox/compiler";
import { removeStaleTempFilesSync, writeFileAtomic } from "./atomic-write.js";
import { SerialWriter } from "./serial-writer.js";
import { StateError } from "./state-error.js";

/** A state file that could not be used as it was: where it was moved and why. */
export interface StateFileProblem {
  readonly path: string;
  /** Where the unusable file now is (next to it, `<name>.unreadable-<time>-<random>`). */
  readonly movedTo: string;
  readonly reason: string;
}

/** Options of a JSON state file. */
export interface JsonStateFileOptions<S extends TSchema> {
  /** What the file must hold; checked on every read. */
  schema: S;
  /** The value of a file that does not exist yet. */
  empty: () => Static<S>;
  /** File mode of a new file. @default 0o600 */
  mode?: number;
  /** Pretty-print (for files people read). @default false */
  pretty?: boolean;
  /** Told once when the file was unusable and moved aside (the value starts from `empty`). */
  onProblem?: (problem: StateFileProblem) => void;
}

const checkers = new WeakMap<TSchema, ReturnType<typeof TypeCompiler.Compile>>();
function checkerFor(schema: TSchema) {
  let checker = checkers.get(schema);
  if (!checker) {
    checker = TypeCompiler.Compile(schema);
    checkers.set(schema, checker);
  }
  return checker;
}

/**
 * One JSON file of the state directory, read through its schema and written through a serial writer. A file that
 * does not parse or does not match the schema is never overwritten silently: it is moved aside once, reported, and
 * the value starts empty. Writes are atomic (temp file, fsync, rename), one at a time, off the event loop, and their
 * errors reach the caller (`disk full` is said so).
 */
export class JsonStateFile<S extends TSchema> {
  readonly #options: JsonStateFileOptions<S>;
  readonly #writer: SerialWriter<Static<S>>;
  /** Set when the file was unusable at the last read. */
  problem: StateFileProblem | undefined;

  constructor(
    readonly path: string,
    options: JsonStateFileOptions<S>,
  ) {
    this.#options = options;
    this.#writer = new SerialWriter(path, (value) =>
      writeFileAtomic(path, `${JSON.stringify(value, null, options.pretty ? 2 : undefined)}\n`, {
        mode: options.mode ?? 0o600,
      }),
    );
  }

  /** The file's value (synchronous: for start-up, before any write is queued). Removes crashed writers' temp files. */
  read(): Static<S> {
    removeStaleTempFilesSync(this.path);
    if (!existsSync(this.path)) return this.#options.empty();
    let text: string;
    try {
      text = readFileSync(this.path, "utf8");
    } catch (error) {
      throw new StateError(
        "STATE_UNREADABLE",
        `cannot read ${this.path}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`,
        this.path,
        { cause: error },
      );
    }
    let value: unknown;
    let reason: string | undefined;
    try {
      value = JSON.parse(text);
    } catch (error) {
      reason = `not JSON (${(error as Error).message})`;
    }
    if (reason === undefined) {
      const checker = checkerFor(this.#options.schema);
      if (checker.Check(value)) return value as Static<S>;
      const first = checker.Errors(value).First();
      reason = `not what it should hold${first ? ` (${first.path || "/"}: ${first.message})` : ""}`;
    }
    const movedTo = `${this.path}.unreadable-${Date.now()}-${randomBytes(3).toString("hex")}`;
    renameSync(this.path, movedTo);
    this.problem = { path: this.path, movedTo, reason };
    this.#options.onProblem?.(this.problem);
    return this.#options.empty();
  }

  /** Write a snapshot; resolves when it (or a newer one) is durable, rejects with a StateError. */
  write(value: Static<S>): Promise<void> {
    return this.#writer.save(value);
  }

  /** The last write's error, until a write succeeds (for health). */
  get lastError(): StateError | undefined {
    return this.#writer.lastError;
  }

  /** Resolves when every queued write has finished. */
  flush(): Promise<void> {
    return this.#writer.idle();
  }
}
