// Advertising a gateway by mDNS/DNS-SD with @homebridge/ciao (pure JS, RFC 6762/6763: probing, conflict renaming,
// announcements, goodbyes on stop). ciao is loaded only when something is advertised.
import { networkInterfaces } from "node:os";
import { GATEWAY_SERVICE_NAME, type GatewayTxtInput, gatewayTxt } from "./gateway-service.js";

/** Options of `advertiseGateway`. */
export interface AdvertiseOptions extends GatewayTxtInput {
  /** The instance name (`gateway-box (Gateway)`); ciao renames on a conflict. */
  readonly name: string;
  /** The address the gateway binds: a wildcard advertises on every interface, an address only on its own. */
  readonly bindHost: string;
  /** Told when ciao renamed the service after a conflict, or failed after starting. */
  readonly onEvent?: (event: { kind: "renamed"; name: string } | { kind: "error"; error: Error }) => void;
}

/** A running advertisement. `stop()` sends goodbyes and is idempotent. */
export interface Advertisement {
  readonly name: string;
  readonly interfaces: readonly string[];
  readonly txt: Readonly<Record<string, string>>;
  stop(): Promise<void>;
}

/**
 * The interfaces to advertise on for a bind address, by name, from the OS (not from `ip link`: ciao's own lookup
 * misses interfaces listed as `name@peer`, such as a container's veth). Loopback never.
 */
export function advertiseInterfaces(bindHost: string): string[] {
  const wildcard = bindHost === "0.0.0.0" || bindHost === "::" || bindHost === "";
  const names: string[] = [];
  for (const [name, addresses] of Object.entries(networkInterfaces())) {
    const usable = (addresses ?? []).filter((address) => !address.internal);
    if (usable.length === 0) continue;
    if (wildcard ? usable.some((address) => address.family === "IPv4") : usable.some((a) => a.address === bindHost))
      names.push(name);
  }
  return names;
}

/** Advertise a gateway; resolves once probing finished and the first announcement went out. */
export async function advertiseGateway(options: AdvertiseOptions): Promise<Advertisement> {
  const interfaces = advertiseInterfaces(options.bindHost);
  if (interfaces.length === 0)
    throw new Error(`no network interface carries ${options.bindHost}: nothing to advertise on`);
  const { getResponder } = await import("@homebridge/ciao");
  const responder = getResponder({ interface: interfaces, disableIpv6: true });
  const txt = gatewayTxt(options);
  const service = responder.createService({ name: options.name, type: GATEWAY_SERVICE_NAME, port: options.port, txt });
  service.on("name-change", (name: string) => options.onEvent?.({ kind: "renamed", name }));
  let stopped: Promise<void> | undefined;
  const stop = () => {
    stopped ??= (async () => {
      await service.destroy().catch(() => undefined);
      await responder.shutdown().catch(() => undefined);
    })();
    return stopped;
  };
  try {
    await service.advertise();
  } catch (error) {
    await stop();
    throw error;
  }
  return {
    get name() {
      return service.getFQDN().split("._")[0] ?? options.name;
    },
    interfaces,
    txt,
    stop,
  };
}
