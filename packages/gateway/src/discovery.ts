// mDNS advertisement as a gateway service: only when the gateway binds beyond loopback (announcements leak — internet
// scanners counted the reference's gateways by them) and `discovery.mdns.mode` is not off; shown in
// `status.exposure.mdns`, re-advertised when the section changes, goodbyes on stop.
import { X509Certificate } from "node:crypto";
import { hostname } from "node:os";
import type { DiscoveryConfigSection } from "@gateway/discovery/config";
import { PROTOCOL_VERSION } from "@gateway/protocol";
import { type ConfigManager, type GatewayServer, isLoopback } from "@gateway/server";

type Advertisement = Awaited<ReturnType<typeof import("@gateway/discovery").advertiseGateway>>;

/** The SHA-256 fingerprint of the gateway's certificate, lower-case hex (as the reference pins it). */
function fingerprintOf(cert: string | Buffer | undefined): string | undefined {
  if (!cert) return undefined;
  try {
    return new X509Certificate(cert).fingerprint256.replaceAll(":", "").toLowerCase();
  } catch {
    return undefined;
  }
}

/** The default instance name: this machine's short name. */
export function defaultInstanceName(): string {
  return `${hostname().split(".")[0] || "gateway"} (Gateway)`.slice(0, 63);
}

/** Compose mDNS advertisement into a gateway. */
export function attachDiscovery(server: GatewayServer, manager: ConfigManager): void {
  const section = (config: unknown) => (config as { discovery?: DiscoveryConfigSection }).discovery?.mdns;
  let advertisement: Advertisement | undefined;
  let failure: string | undefined;
  let running = false;

  const advertise = async (config: unknown) => {
    failure = undefined;
    const mdns = section(config);
    const address = server.address;
    if (!address || mdns?.mode === "off" || isLoopback(address.host)) return;
    try {
      // Loaded only here: a loopback gateway never loads an mDNS library.
      const { advertiseGateway } = await import("@gateway/discovery");
      const fingerprint = fingerprintOf(server.options.tls?.cert);
      advertisement = await advertiseGateway({
        name: mdns?.name ?? defaultInstanceName(),
        port: address.port,
        bindHost: address.host,
        protocolVersion: PROTOCOL_VERSION,
        ...(fingerprint ? { tlsFingerprintSha256: fingerprint } : {}),
        onEvent: (event) =>
          event.kind === "renamed"
            ? server.logger.warn(`mdns: the name was taken on the network; advertising as "${event.name}"`)
            : server.logger.warn({ err: event.error }, "mdns"),
      });
      server.logger.info(
        { name: advertisement.name, interfaces: advertisement.interfaces },
        "mdns: advertising _openclaw-gw._tcp",
      );
    } catch (error) {
      failure = (error as Error).message;
      server.logger.warn({ err: error }, `mdns: not advertising: ${failure}`);
    }
  };
  const withdraw = async () => {
    const previous = advertisement;
    advertisement = undefined;
    await previous?.stop();
  };

  server.registerService({
    name: "mdns",
    async start() {
      running = true;
      await advertise(manager.current.config);
    },
    async stop() {
      running = false;
      await withdraw();
    },
  });
  manager.subscribe("discovery", async (next) => {
    if (!running) return;
    await withdraw();
    await advertise(next);
  });
  server.contributeExposure("mdns", () => {
    if (advertisement) return { state: "advertising", serviceType: "_openclaw-gw._tcp", name: advertisement.name };
    return failure ? { state: "failed", serviceType: "_openclaw-gw._tcp", error: failure } : undefined;
  });
  server.addWarnings(() => (failure ? [`mdns is not advertising: ${failure}`] : []));
}
