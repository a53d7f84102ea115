import { CHANNEL_SPECIFICATION_VERSION, type ChannelPlugin } from "@gateway/plugin-sdk";

/** A built-in plugin imported only when a config uses it (its library costs nothing otherwise). */
export interface LazyChannelPlugin {
  readonly id: string;
  /** Known without loading: what `status` says when the channel is not configured yet. */
  readonly meta: { label: string; setup?: string };
  load(): Promise<ChannelPlugin>;
}

/** A plugin that could not be used, and at which step. */
export interface PluginFailure {
  id: string;
  origin: string;
  activated: boolean;
  failurePhase: "load" | "validate" | "register";
  error: string;
}

/** Why a module's export is not a channel plugin this gateway runs (undefined when it is one). */
export function pluginProblem(candidate: unknown): string | undefined {
  if (!candidate || typeof candidate !== "object") return "the module exports no channel plugin (default export)";
  const plugin = candidate as Partial<ChannelPlugin>;
  if (plugin.specificationVersion !== CHANNEL_SPECIFICATION_VERSION)
    return `it implements plugin contract ${JSON.stringify(plugin.specificationVersion ?? "(none)")}; this gateway runs ${CHANNEL_SPECIFICATION_VERSION} plugins (update the plugin, or @gateway/plugin-sdk in it)`;
  if (typeof plugin.id !== "string" || !/^[a-z][a-z0-9-]*$/.test(plugin.id))
    return "id must be lowercase letters, digits and dashes";
  if (typeof plugin.createAccount !== "function") return "createAccount(accountId, config) is missing";
  if (!plugin.configSchema || typeof plugin.configSchema !== "object")
    return "configSchema (TypeBox object) is missing";
  if (!plugin.capabilities || typeof plugin.capabilities.maxTextLength !== "number")
    return "capabilities (with maxTextLength) are missing";
  if (!plugin.meta?.label) return "meta.label is missing";
  return undefined;
}

/**
 * The channel plugins a gateway can run: built-ins (some loaded only when configured) and `plugins:` entries, by id,
 * with every plugin that failed to load or validate kept for status.
 */
export class ChannelPluginRegistry {
  readonly #plugins = new Map<string, ChannelPlugin>();
  readonly #lazy = new Map<string, LazyChannelPlugin>();
  readonly #failures: PluginFailure[] = [];

  constructor(
    builtins: ReadonlyArray<ChannelPlugin | LazyChannelPlugin>,
    private readonly onFailure: (failure: PluginFailure) => void = () => {},
  ) {
    for (const plugin of builtins) {
      if ("load" in plugin) this.#lazy.set(plugin.id, plugin);
      else this.add(plugin, `built-in ${plugin.id}`);
    }
  }

  /** Import the lazy built-ins these channel ids name. */
  async load(ids: Iterable<string>): Promise<void> {
    for (const id of ids) {
      const lazy = this.#lazy.get(id);
      if (!lazy || this.#plugins.has(id)) continue;
      this.#lazy.delete(id);
      try {
        this.add(await lazy.load(), `built-in ${id}`);
      } catch (error) {
        this.failed(`built-in ${id}`, error as Error);
      }
    }
  }

  /** Add a plugin (a loaded `plugins:` entry). One that is not a v1 plugin, or whose id is taken, is refused. */
  add(candidate: unknown, origin: string): void {
    const problem = pluginProblem(candidate);
    const plugin = candidate as ChannelPlugin;
    if (problem) this.#fail({ id: origin, origin, activated: false, failurePhase: "validate", error: problem });
    else if (this.#plugins.has(plugin.id))
      this.#fail({
        id: plugin.id,
        origin,
        activated: false,
        failurePhase: "register",
        error: `a channel plugin with id "${plugin.id}" is already loaded`,
      });
    else this.#plugins.set(plugin.id, plugin);
  }

  /** A plugin module that could not be imported at all. */
  failed(origin: string, error: Error): void {
    this.#fail({ id: origin, origin, activated: false, failurePhase: "load", error: error.message });
  }

  #fail(failure: PluginFailure): void {
    this.#failures.push(failure);
    this.onFailure(failure);
  }

  get(id: string): ChannelPlugin | undefined {
    return this.#plugins.get(id);
  }

  /** Every id the registry can run, loaded or not. */
  get ids(): string[] {
    return [...this.#plugins.keys(), ...this.#lazy.keys()];
  }

  get loaded(): ChannelPlugin[] {
    return [...this.#plugins.values()];
  }

  get failures(): readonly PluginFailure[] {
    return this.#failures;
  }

  /** A channel's label, loaded or not. */
  label(id: string): string {
    return this.#plugins.get(id)?.meta.label ?? this.#lazy.get(id)?.meta.label ?? id;
  }

  /** How to set each runnable channel up, for "nothing is configured yet" messages. */
  setupHints(): string[] {
    const metas = [...this.#lazy.values(), ...this.#plugins.values()].map((plugin) => plugin.meta);
    return metas.filter((meta) => meta.setup).map((meta) => `${meta.label}: ${meta.setup}`);
  }
}
