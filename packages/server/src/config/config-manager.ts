import { readFileSync } from "node:fs";
import { rm } from "node:fs/promises";
import type { ConfigChangedEvent, ConfigGetResult, ConfigSchemaResponse, ConfigWriteResult } from "@gateway/protocol";
import { writeFileAtomic } from "@gateway/state";
import { type TSchema, TypeGuard } from "@sinclair/typebox";
import { type FSWatcher, watch } from "chokidar";
import JSON5 from "json5";
import type { Logger } from "pino";
import { ProtocolError } from "../errors.js";
import { ConfigError } from "./errors.js";
import { Json5EditError, patchJson5 } from "./json5-edit.js";
import {
  hashConfigText,
  type LoadConfigOptions,
  type LoadedConfig,
  loadConfig,
  loadConfigText,
} from "./load-config.js";
import { isObject } from "./read-config-file.js";
import { isSecretKey, redactSecrets } from "./redact.js";

/** Config paths that only take effect with a new listener; everything else applies in place. */
export const RESTART_PATHS = [
  "gateway.port",
  "gateway.bind",
  "gateway.host",
  "gateway.auth.mode",
  "gateway.tls",
  "gateway.controlUi",
  "gateway.allowedHosts",
];

/** Config paths that take effect only when the process starts again (reported in `restartRequired`). */
export const PROCESS_RESTART_PATHS = ["logging.file", "plugins"];

/** How config changes are applied. */
export type ReloadMode = "off" | "restart" | "hot" | "hybrid";

/** A subsystem applying the new values of the config paths it owns. Throwing rolls the whole change back. */
export type ConfigApplier = (next: Record<string, unknown>, previous: Record<string, unknown>) => void | Promise<void>;

/** The API's kinds of config edit: `set`/`apply` replace the file, `patch` merges into it. */
export type ConfigEditKind = "set" | "patch" | "apply";

/** An edit checked against the file as it was, not written yet. */
export interface CheckedConfigEdit {
  readonly kind: ConfigEditKind;
  /** The file before the edit (null: there was none). */
  readonly currentText: string | null;
  readonly nextText: string;
  readonly next: LoadedConfig;
  /** The hash the file will have. */
  readonly hash: string;
}

/** Options of a ConfigManager. */
export interface ConfigManagerOptions extends LoadConfigOptions {
  logger: Logger;
  /** Version of the composed schema, reported by `config.schema`. */
  version: string;
  /** Config writes allowed per minute through the API. @default 10 */
  writesPerMinute?: number;
}

/** Whether a dotted config path is restart-only. */
export function isRestartPath(path: string): boolean {
  return RESTART_PATHS.some((prefix) => path === prefix || path.startsWith(`${prefix}.`));
}

/** Dotted paths whose values differ between two configs (arrays compare whole). */
export function changedPaths(before: unknown, after: unknown, prefix = ""): string[] {
  if (isObject(before) && isObject(after)) {
    const keys = new Set([...Object.keys(before), ...Object.keys(after)]);
    return [...keys].flatMap((key) => changedPaths(before[key], after[key], prefix ? `${prefix}.${key}` : key));
  }
  return JSON.stringify(before) === JSON.stringify(after) ? [] : [prefix];
}

/** RFC 7396 merge patch: objects merge, `null` deletes, anything else replaces. */
export function mergePatch(target: unknown, patch: unknown): unknown {
  if (!isObject(patch)) return patch;
  const result: Record<string, unknown> = isObject(target) ? { ...target } : {};
  for (const [key, value] of Object.entries(patch)) {
    if (value === null) delete result[key];
    else result[key] = mergePatch(result[key], value);
  }
  return result;
}

function readMode(config: Record<string, unknown>): ReloadMode {
  const gateway = isObject(config.gateway) ? config.gateway : {};
  const reload = isObject(gateway.reload) ? gateway.reload : {};
  return (reload.mode as ReloadMode | undefined) ?? "hybrid";
}

function readDebounce(config: Record<string, unknown>): number {
  const gateway = isObject(config.gateway) ? config.gateway : {};
  const reload = isObject(gateway.reload) ? gateway.reload : {};
  return (reload.debounceMs as number | undefined) ?? 300;
}

/**
 * The running configuration: loads it, applies edits made through the API (`config.set/patch/apply`) and on disk
 * (watched with chokidar), validates every change before it takes effect, and hands the new values to the subsystems
 * that own them. An invalid edit never takes effect: the last good config keeps running and the error is reported.
 */
export class ConfigManager {
  #current: LoadedConfig;
  #lastError: ConfigError | undefined;
  readonly #appliers: Array<{ prefix: string; apply: ConfigApplier }> = [];
  #restartHandler: ((next: Record<string, unknown>) => Promise<void>) | undefined;
  readonly #changeListeners = new Set<(change: ConfigChangedEvent) => void>();
  readonly #errorListeners = new Set<(error: ConfigError) => void>();
  readonly #recoveryListeners = new Set<() => void>();
  #queue: Promise<unknown> = Promise.resolve();
  #watcher: FSWatcher | undefined;
  #debounce: NodeJS.Timeout | undefined;
  readonly #writes: number[] = [];
  #closed = false;
  #coordinator:
    | ((kind: ConfigEditKind, raw: string, baseHash: string | undefined) => Promise<ConfigWriteResult>)
    | undefined;

  private constructor(
    private options: ConfigManagerOptions,
    initial: LoadedConfig,
  ) {
    this.#current = initial;
  }

  /** Load the config (throws ConfigError listing every problem). */
  static load(options: ConfigManagerOptions): ConfigManager {
    return new ConfigManager(options, loadConfig(options));
  }

  /** Log through `logger` from now on (the app loads the config before the server and its logger exist). */
  useLogger(logger: Logger): void {
    this.options.logger = logger;
  }

  /** The config that is running. */
  get current(): LoadedConfig {
    return this.#current;
  }

  /** Why the last edit of the file was refused, while it still is. */
  get lastError(): ConfigError | undefined {
    return this.#lastError;
  }

  /** Apply changes under `prefix` (a section such as `logging`, or a path such as `channels.telegram`). */
  subscribe(prefix: string, apply: ConfigApplier): () => void {
    const entry = { prefix, apply };
    this.#appliers.push(entry);
    return () => {
      const index = this.#appliers.indexOf(entry);
      if (index >= 0) this.#appliers.splice(index, 1);
    };
  }

  /** How restart-only changes are applied (the app passes the server's in-process listener restart). */
  setRestartHandler(handler: (next: Record<string, unknown>) => Promise<void>): void {
    this.#restartHandler = handler;
  }

  onChange(listener: (change: ConfigChangedEvent) => void): () => void {
    this.#changeListeners.add(listener);
    return () => this.#changeListeners.delete(listener);
  }

  onError(listener: (error: ConfigError) => void): () => void {
    this.#errorListeners.add(listener);
    return () => this.#errorListeners.delete(listener);
  }

  /** Called when the file is valid again after a refused edit (the refusal's warning is gone). */
  onRecovered(listener: () => void): () => void {
    this.#recoveryListeners.add(listener);
    return () => this.#recoveryListeners.delete(listener);
  }

  /** `config.get`: the running config with secrets redacted, its file and hash. */
  get(): ConfigGetResult {
    return {
      path: this.#current.path,
      exists: this.#current.exists,
      hash: this.#current.hash,
      config: redactSecrets(this.#current.config),
    };
  }

  /** `config.schema`: the JSON Schema of the config with labels and help for a UI. */
  schema(): ConfigSchemaResponse {
    const uiHints: ConfigSchemaResponse["uiHints"] = {};
    const walk = (schema: TSchema, path: string) => {
      if (path && (schema.description || isSecretKey(path.split(".").at(-1)!))) {
        uiHints[path] = {
          label: path.split(".").at(-1)!,
          ...(schema.description ? { help: schema.description } : {}),
          ...(isSecretKey(path.split(".").at(-1)!) ? { sensitive: true } : {}),
          ...(isRestartPath(path) ? { tags: ["restart"] } : {}),
        };
      }
      if (TypeGuard.IsObject(schema)) {
        for (const [key, child] of Object.entries(schema.properties)) walk(child, path ? `${path}.${key}` : key);
      }
    };
    walk(this.options.schema, "");
    return {
      schema: JSON.parse(JSON.stringify(this.options.schema)),
      uiHints,
      version: this.options.version,
      generatedAt: new Date().toISOString(),
    };
  }

  /**
   * `config.set` / `config.apply` (replace the file) and `config.patch` (JSON5 merge patch). Needs the current
   * `baseHash` once a file exists; refuses invalid content with every problem and leaves the file untouched.
   * `apply` also performs a restart for restart-only changes; `set`/`patch` do so when the reload mode allows.
   * In a fleet the edit goes through the coordinator (applied on every instance or refused on all).
   */
  write(kind: ConfigEditKind, raw: string, baseHash: string | undefined): Promise<ConfigWriteResult> {
    if (this.#coordinator) return this.#coordinator(kind, raw, baseHash);
    return this.writeHere(kind, raw, baseHash);
  }

  /** Apply an edit to this instance's file only (what `write` does without a coordinator). */
  writeHere(kind: ConfigEditKind, raw: string, baseHash: string | undefined): Promise<ConfigWriteResult> {
    return this.exclusive(async () => this.commit(await this.check(kind, raw, baseHash)));
  }

  /** Route API edits through `coordinator` (a fleet's prepare/commit across its instances). */
  coordinateWrites(
    coordinator: (kind: ConfigEditKind, raw: string, baseHash: string | undefined) => Promise<ConfigWriteResult>,
  ): void {
    this.#coordinator = coordinator;
  }

  /** Run `task` while no other edit or reload runs (edits and reloads go one at a time). */
  exclusive<T>(task: () => Promise<T>): Promise<T> {
    return this.#serialized(task);
  }

  /** Check an edit against the file as it is now, writing nothing: what `commit` would write, and its hash. */
  async check(kind: ConfigEditKind, raw: string, baseHash: string | undefined): Promise<CheckedConfigEdit> {
    this.#checkRate();
    const currentText = this.#readFile();
    const currentHash = currentText === null ? null : hashConfigText(currentText);
    if (currentHash !== null && baseHash !== currentHash) {
      throw new ProtocolError(
        "INVALID_REQUEST",
        baseHash === undefined
          ? "baseHash is required once a config file exists: read it with config.get and pass its hash"
          : "the config changed since you read it: reload it with config.get and apply your edit again",
        { details: { hash: currentHash } },
      );
    }
    let nextText = raw;
    if (kind === "patch") {
      let patch: unknown;
      try {
        patch = JSON5.parse(raw);
      } catch (error) {
        throw new ProtocolError("INVALID_REQUEST", `the patch is not valid JSON5: ${(error as Error).message}`);
      }
      try {
        // Edits in place: the file keeps its comments, layout and key order.
        nextText = patchJson5(currentText ?? "", patch);
      } catch (error) {
        if (!(error instanceof Json5EditError)) throw error;
        throw new ProtocolError(
          "INVALID_REQUEST",
          `${error.message} (the config file is not valid JSON5 now; fix it or use config.set)`,
        );
      }
    }
    let next: LoadedConfig;
    try {
      next = loadConfigText(this.options, nextText);
    } catch (error) {
      if (error instanceof ConfigError) {
        throw new ProtocolError("INVALID_REQUEST", `the new config is invalid (${error.issues.length} problems)`, {
          details: { issues: error.issues },
        });
      }
      throw error;
    }
    return { kind, currentText, nextText, next, hash: next.hash! };
  }

  /** Write and apply a checked edit (call within `exclusive`); refused when the file changed since the check. */
  async commit(edit: CheckedConfigEdit): Promise<ConfigWriteResult> {
    const { currentText, nextText, next, kind } = edit;
    if (this.#readFile() !== currentText)
      throw new ProtocolError("INVALID_REQUEST", "the config file changed meanwhile: read it again and retry");
    // One backup of the file as it was before this edit, with the same (secret-holding) mode.
    if (currentText !== null) await writeFileAtomic(`${this.options.path}.bak`, currentText, { mode: 0o600 });
    await writeFileAtomic(this.options.path, nextText, currentText === null ? { mode: 0o600 } : {});
    this.#writes.push(Date.now());
    let change: ConfigChangedEvent;
    try {
      change = await this.#applyChange(next, "api", kind === "apply");
    } catch (error) {
      // The running config was rolled back; put the file back too, so the watcher does not retry the edit.
      if (currentText === null) await rm(this.options.path, { force: true });
      else await writeFileAtomic(this.options.path, currentText);
      throw error;
    }
    return {
      ok: true as const,
      path: this.options.path,
      hash: next.hash!,
      changedPaths: change.changedPaths,
      restartRequired: change.restartRequired.length > 0,
    };
  }

  /** Start watching the config file and its includes (unless the reload mode is `off`). */
  watch(): void {
    if (this.#watcher || this.#closed || readMode(this.#current.config) === "off") return;
    this.#watcher = watch(this.#current.files, { ignoreInitial: true, atomic: true });
    this.#watcher.on("all", () => this.#scheduleReload());
    this.#watcher.on("error", (error) => this.options.logger.warn({ err: error }, "config watcher error"));
  }

  /** Stop watching. */
  async close(): Promise<void> {
    this.#closed = true;
    if (this.#debounce) clearTimeout(this.#debounce);
    await this.#watcher?.close();
    this.#watcher = undefined;
    await this.#queue.catch(() => undefined);
  }

  /** Re-read the file now (the watcher calls this after the debounce). Resolves once applied or refused. */
  reload(): Promise<void> {
    return this.#serialized(() => this.#reloadFromDisk(2));
  }

  #scheduleReload(): void {
    if (this.#debounce) clearTimeout(this.#debounce);
    this.#debounce = setTimeout(() => {
      this.#debounce = undefined;
      void this.reload();
    }, readDebounce(this.#current.config));
  }

  async #reloadFromDisk(retries: number): Promise<void> {
    if (this.#closed) return;
    const text = this.#readFile();
    if (text !== null && hashConfigText(text) === this.#current.hash) {
      // A refused edit was reverted: the file is the running config again, so the warning goes.
      this.#clearError();
      return;
    }
    let next: LoadedConfig;
    try {
      next = loadConfigText(this.options, text);
    } catch (error) {
      if (!(error instanceof ConfigError)) throw error;
      // An editor may be half-way through saving: look again before calling it invalid.
      if (retries > 0 && error.issues.some((issue) => /JSON5|cannot read/.test(issue.message))) {
        await new Promise((resolve) => setTimeout(resolve, 150));
        return this.#reloadFromDisk(retries - 1);
      }
      this.#lastError = error;
      this.options.logger.error(
        { path: this.options.path, issues: error.issues },
        "config edit refused; the last good config keeps running",
      );
      for (const listener of this.#errorListeners) listener(error);
      return;
    }
    this.#clearError();
    try {
      await this.#applyChange(next, "file", false);
    } catch (error) {
      this.options.logger.error({ err: error }, "config change could not be applied; rolled back");
    }
    if (this.#watcher) {
      const watched = new Set(Object.values(this.#watcher.getWatched()).flat());
      const missing = next.files.filter((file) => !watched.has(file));
      if (missing.length > 0) this.#watcher.add(missing);
    }
  }

  async #applyChange(next: LoadedConfig, source: "file" | "api", forceRestart: boolean): Promise<ConfigChangedEvent> {
    const previous = this.#current;
    const paths = changedPaths(previous.config, next.config);
    const mode = readMode(next.config);
    const processPaths = paths.filter((path) =>
      PROCESS_RESTART_PATHS.some((prefix) => path === prefix || path.startsWith(`${prefix}.`)),
    );
    const restartPaths = paths.filter(isRestartPath);
    const hotPaths = paths.filter((path) => !isRestartPath(path) && !processPaths.includes(path));
    const applied: Array<{ prefix: string; apply: ConfigApplier }> = [];
    try {
      for (const entry of this.#appliers) {
        if (paths.some((path) => path === entry.prefix || path.startsWith(`${entry.prefix}.`))) {
          await entry.apply(next.config, previous.config);
          applied.push(entry);
        }
      }
    } catch (error) {
      for (const entry of applied.reverse()) {
        try {
          await entry.apply(previous.config, next.config);
        } catch (rollbackError) {
          this.options.logger.error({ err: rollbackError, prefix: entry.prefix }, "config rollback failed");
        }
      }
      // An owner that found the config invalid refuses it (nothing changed); anything else failed while applying.
      if (ProtocolError.isInstance(error) && error.code === "INVALID_REQUEST")
        throw new ProtocolError("INVALID_REQUEST", `the config was refused (nothing changed): ${error.message}`);
      throw new ProtocolError(
        "UNAVAILABLE",
        `applying the config failed and was rolled back: ${(error as Error).message}`,
      );
    }
    // hybrid and restart rebind in-process for restart-only paths; hot leaves them for the next start. (A `restart`
    // reload is the same in-process rebind: hot paths are applied by their owners either way.)
    const restartNow =
      restartPaths.length > 0 &&
      this.#restartHandler !== undefined &&
      (forceRestart || mode === "hybrid" || mode === "restart");
    this.#current = next;
    if (restartNow) await this.#restartHandler!(next.config);
    const change: ConfigChangedEvent = {
      hash: next.hash ?? hashConfigText(""),
      changedPaths: paths,
      appliedHot: hotPaths,
      restarted: restartNow,
      restartRequired: [...(restartNow ? [] : restartPaths), ...processPaths],
      source,
    };
    if (paths.length > 0) {
      this.options.logger.info({ changedPaths: paths, restarted: restartNow, source }, "config applied");
      for (const listener of this.#changeListeners) listener(change);
    }
    return change;
  }

  #clearError(): void {
    if (!this.#lastError) return;
    this.#lastError = undefined;
    this.options.logger.info({ path: this.options.path }, "config file is valid again");
    for (const listener of this.#recoveryListeners) listener();
  }

  #readFile(): string | null {
    try {
      return readFileSync(this.options.path, "utf8");
    } catch {
      return null;
    }
  }

  #checkRate(): void {
    const limit = this.options.writesPerMinute ?? 10;
    const now = Date.now();
    while (this.#writes.length > 0 && now - this.#writes[0]! > 60_000) this.#writes.shift();
    if (this.#writes.length >= limit) {
      const retryAfterMs = 60_000 - (now - this.#writes[0]!);
      throw new ProtocolError(
        "UNAVAILABLE",
        `too many config writes; try again in ${Math.ceil(retryAfterMs / 1000)} s`,
        {
          retryable: true,
          retryAfterMs,
        },
      );
    }
  }

  #serialized<T>(task: () => Promise<T>): Promise<T> {
    const run = this.#queue.then(task, task);
    this.#queue = run.catch(() => undefined);
    return run;
  }
}
