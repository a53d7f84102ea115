// The canvas host as a gateway service: started with the gateway when `canvasHost.enabled`, rebuilt when its section
// changes, advertised in `hello-ok.pluginSurfaceUrls.canvas` and shown in `status.exposure.canvasHost`.
import { join } from "node:path";
import { type CanvasAddress, type CanvasHost, createCanvasHost } from "@gateway/canvas-host";
import type { CanvasHostConfigSection } from "@gateway/canvas-host/config";
import { type ConfigManager, type GatewayServer, isLoopback } from "@gateway/server";

/** The parts of the config the canvas host reads. */
interface CanvasConfig {
  canvasHost?: CanvasHostConfigSection;
  gateway?: { allowedHosts?: string[]; controlUi?: { allowedOrigins?: string[] } };
}

/** The folder the agent writes the canvas into, unless `canvasHost.root` says otherwise. */
export function canvasRoot(stateDir: string, section: CanvasHostConfigSection | undefined): string {
  return section?.root ?? join(stateDir, "canvas");
}

/**
 * The canvas URL for a client: the name it reached the gateway by when the canvas host listens beyond loopback (so a
 * phone on the LAN gets an address it can open), the canvas host's own loopback address otherwise.
 */
export function canvasUrlFor(address: CanvasAddress, requestHost: string | undefined): string {
  let requested = "";
  try {
    requested = requestHost ? new URL(`http://${requestHost}`).hostname : "";
  } catch {
    requested = "";
  }
  const wildcard = address.host === "0.0.0.0" || address.host === "::";
  let host: string;
  if (isLoopback(address.host)) host = requested && isLoopback(requested) ? requested : address.host;
  else host = requested || (wildcard ? "127.0.0.1" : address.host);
  const bare = host.replace(/^\[|\]$/g, "");
  return `http://${bare.includes(":") ? `[${bare}]` : bare}:${address.port}`;
}

/** Compose the canvas host into a gateway (a no-op service while `canvasHost.enabled` is not true). */
export function attachCanvasHost(server: GatewayServer, manager: ConfigManager, stateDir: string): void {
  const current = () => manager.current.config as CanvasConfig;
  let host: CanvasHost | undefined;
  let running = false;

  const start = async (config: CanvasConfig) => {
    const section = config.canvasHost;
    if (section?.enabled !== true) return;
    const root = canvasRoot(stateDir, section);
    const next = createCanvasHost({
      root,
      ...(section.host ? { host: section.host } : {}),
      ...(section.port !== undefined ? { port: section.port } : {}),
      ...(section.liveReload !== undefined ? { liveReload: section.liveReload } : {}),
      ...(section.maxFileBytes !== undefined ? { maxFileBytes: section.maxFileBytes } : {}),
      allowedHosts: config.gateway?.allowedHosts ?? [],
      allowedOrigins: config.gateway?.controlUi?.allowedOrigins ?? [],
      logger: server.logger.child({ component: "canvas-host" }),
    });
    const address = await next.listen();
    host = next;
    if (!isLoopback(address.host))
      server.logger.warn(
        `canvas host on ${address.url} is reachable from the network without auth: anyone there sees the canvas`,
      );
    server.logger.info({ url: address.url, root }, "canvas host listening");
  };
  const stop = async () => {
    const previous = host;
    host = undefined;
    await previous?.close();
  };

  server.registerService({
    name: "canvas-host",
    async start() {
      running = true;
      await start(current());
    },
    async stop() {
      running = false;
      await stop();
    },
  });
  // A changed section rebuilds the host (a new port, root or bind); a host that cannot start rolls the change back.
  manager.subscribe("canvasHost", async (next) => {
    if (!running) return;
    await stop();
    await start(next as CanvasConfig);
    server.refreshHealth();
  });
  server.registerPluginSurface("canvas", (request) =>
    host?.address ? canvasUrlFor(host.address, request.host) : undefined,
  );
  server.contributeExposure("canvasHost", () =>
    host?.address ? { url: host.address.url, liveReloadPages: host.liveReloadListeners } : undefined,
  );
}
