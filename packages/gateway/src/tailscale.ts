// Tailscale exposure as a gateway service: `gateway.tailscale.mode` serve or funnel publishes the gateway's port once
// it listens, follows config changes and listener restarts, and is undone when the gateway stops. Auth `none` with
// an exposure is refused — at start (the gateway does not start) and as a config change (nothing changes).
import {
  ConfigError,
  type ConfigManager,
  type GatewayServer,
  ProtocolError,
  serverOptionsFromConfig,
} from "@gateway/server";
import { authRefusal, TailscaleCli, TailscaleError, TailscaleExposure, type TailscaleMode } from "@gateway/tailscale";
import type { TailscaleConfigSection } from "@gateway/tailscale/config";
import type { Environment } from "./environment.js";

interface TailscaleConfig {
  gateway?: { tailscale?: TailscaleConfigSection; auth?: { mode?: "token" | "password" | "none" } };
}

/** Refuse, before anything starts, a Tailscale exposure of a gateway without auth (a ConfigError naming the path). */
export function checkTailscaleAuth(
  file: string,
  config: unknown,
  authMode: "token" | "password" | "none" | undefined,
): void {
  const mode = (config as TailscaleConfig).gateway?.tailscale?.mode ?? "off";
  const refusal = mode === "off" ? undefined : authRefusal(mode, authMode ?? "token");
  if (refusal) throw new ConfigError(file, [{ path: "gateway.tailscale.mode", message: refusal }]);
}

/** Compose Tailscale exposure into a gateway (nothing runs while the mode is off). */
export function attachTailscale(server: GatewayServer, manager: ConfigManager, env: Environment): TailscaleExposure {
  const exposure = new TailscaleExposure(new TailscaleCli({ env }));
  const section = (config: unknown) => (config as TailscaleConfig).gateway?.tailscale;

  let running = false;
  let exposedPort: number | undefined;

  // While the gateway is served on the tailnet, requests come through the local `tailscale serve` proxy: it is a
  // trusted proxy (its forwarded headers are believed, and such requests are never taken as local ones), and the
  // tailnet name is a Host and an Origin the gateway answers to. Withdrawn with the route.
  const frontDoor = (url: string | undefined) => {
    const configured = serverOptionsFromConfig(manager.current.config, { stateDir: server.options.stateDir });
    const tailnet = url ? new URL(url) : undefined;
    server.updateSettings({
      trustedProxies: [...(configured.trustedProxies ?? []), ...(tailnet ? ["127.0.0.1", "::1"] : [])],
      allowedHosts: [...(configured.allowedHosts ?? []), ...(tailnet ? [tailnet.hostname] : [])],
      allowedOrigins: [...(configured.allowedOrigins ?? []), ...(tailnet ? [tailnet.origin] : [])],
    });
  };

  const expose = async (config: unknown) => {
    const mode = section(config)?.mode ?? "off";
    const address = server.address;
    if (mode === "off" || !address) return;
    exposedPort = address.port;
    try {
      const url = await exposure.start({
        mode,
        port: address.port,
        host: address.host,
        tls: server.options.tls !== undefined,
        authMode: server.options.auth.mode,
      });
      frontDoor(url);
      server.logger.info({ url, mode }, `tailscale ${mode}: the gateway is reachable at ${url}`);
      if (mode === "funnel") server.logger.warn(`tailscale funnel: ${url} is on the public internet`);
    } catch (error) {
      if (TailscaleError.isInstance(error) && error.code === "needs-auth") throw error;
      server.logger.warn({ err: error }, `tailscale ${mode} is not active: ${(error as Error).message}`);
    } finally {
      server.refreshHealth();
    }
  };
  const withdraw = async (config: unknown) => {
    frontDoor(undefined);
    try {
      if (section(config)?.resetOnExit !== false) await exposure.stop();
    } catch (error) {
      server.logger.warn({ err: error }, `tailscale: the route could not be removed: ${(error as Error).message}`);
    }
  };

  server.registerService({
    name: "tailscale",
    async start() {
      running = true;
      await expose(manager.current.config);
    },
    async stop() {
      await withdraw(manager.current.config);
      running = false;
    },
  });
  manager.subscribe("gateway.tailscale", async (next) => {
    if (!running) return;
    const mode = section(next)?.mode ?? "off";
    const refusal = mode === "off" ? undefined : authRefusal(mode, server.options.auth.mode);
    if (refusal) throw new ProtocolError("INVALID_REQUEST", refusal);
    await exposure.stop().catch(() => undefined);
    frontDoor(undefined);
    await expose(next);
  });
  // Turning auth off under an exposure is refused: it would put an open gateway on the tailnet or the internet.
  manager.subscribe("gateway.auth.mode", (next) => {
    const mode = section(next)?.mode ?? "off";
    const authMode = (next as TailscaleConfig).gateway?.auth?.mode ?? "token";
    const refusal = running && mode !== "off" ? authRefusal(mode as TailscaleMode, authMode) : undefined;
    if (refusal) throw new ProtocolError("INVALID_REQUEST", refusal);
  });
  // A listener restart on another port moves the route with it.
  manager.onChange((change) => {
    if (!change.restarted || !running || !exposure.status || server.address?.port === exposedPort) return;
    void exposure
      .stop()
      .catch(() => undefined)
      .then(() => expose(manager.current.config))
      .catch((error: Error) => server.logger.warn({ err: error }, `tailscale: ${error.message}`));
  });
  server.contributeExposure("tailscale", () => exposure.status);
  server.addWarnings(() => {
    const status = exposure.status;
    return status?.state === "failed" ? [`tailscale ${status.mode} is not active: ${status.error}`] : [];
  });
  return exposure;
}
