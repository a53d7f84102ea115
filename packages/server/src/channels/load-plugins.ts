import { createRequire } from "node:module";
import { isAbsolute, join, resolve } from "node:path";
import { pathToFileURL } from "node:url";

/** A module named in `plugins:`, loaded, or why it could not be. */
export type LoadedPluginModule = { origin: string; plugin: unknown } | { origin: string; error: Error };

/**
 * Import each `plugins:` entry: a path (`./my-channel.js`, relative to the config file's directory) or a package name
 * (resolved from that directory first, so a plugin installed next to the config is found, then from the gateway).
 * The plugin is the module's default export, or its `plugin` export.
 */
export async function loadPluginModules(specs: readonly string[], baseDir: string): Promise<LoadedPluginModule[]> {
  const results: LoadedPluginModule[] = [];
  for (const spec of specs) {
    try {
      const target =
        spec.startsWith(".") || isAbsolute(spec)
          ? pathToFileURL(resolve(baseDir, spec)).href
          : resolveFrom(spec, baseDir);
      const module = (await import(target)) as { default?: unknown; plugin?: unknown };
      const plugin =
        module.default && typeof module.default === "object" && "id" in module.default
          ? module.default
          : (module.plugin ?? module.default);
      results.push({ origin: spec, plugin });
    } catch (error) {
      results.push({ origin: spec, error: error instanceof Error ? error : new Error(String(error)) });
    }
  }
  return results;
}

function resolveFrom(spec: string, baseDir: string): string {
  try {
    return pathToFileURL(createRequire(join(baseDir, "noop.js")).resolve(spec)).href;
  } catch {
    return spec;
  }
}
