// Web surfaces the gateway hosts beside its WebSocket (the canvas host), advertised in `hello-ok.pluginSurfaceUrls`
// as the reference does: to operators always, to a node only for the surfaces it declared in `caps`.

/** What a surface's URL may depend on: the name the client reached the gateway by. */
export interface PluginSurfaceRequest {
  /** The `Host` header of the client's upgrade, if any. */
  readonly host: string | undefined;
}

/** The URL of a surface for one client, or undefined while the surface is not running. */
export type PluginSurfaceUrl = (request: PluginSurfaceRequest) => string | undefined;

/** The surfaces registered on a server, by name. */
export class PluginSurfaces {
  readonly #surfaces = new Map<string, PluginSurfaceUrl>();

  register(surface: string, url: PluginSurfaceUrl): void {
    if (this.#surfaces.has(surface)) throw new Error(`the plugin surface "${surface}" is registered already`);
    this.#surfaces.set(surface, url);
  }

  /** The URLs for a client (`caps` given for nodes: only the surfaces among them); undefined when there are none. */
  urlsFor(request: PluginSurfaceRequest, caps?: readonly string[]): Record<string, string> | undefined {
    const urls: Record<string, string> = {};
    for (const [surface, resolve] of this.#surfaces) {
      if (caps && !caps.includes(surface)) continue;
      const url = resolve(request);
      if (url) urls[surface] = url;
    }
    return Object.keys(urls).length > 0 ? urls : undefined;
  }
}
