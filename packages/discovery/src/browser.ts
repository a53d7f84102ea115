// Finding gateways on the local network: a DNS-SD browse for _openclaw-gw._tcp.local with multicast-dns (pure JS),
// PTR → SRV + TXT → A, asking again for what the first answers left out.
import { GATEWAY_SERVICE_TYPE } from "./gateway-service.js";

/** A gateway seen on the network. */
export interface DiscoveredGateway {
  /** The instance name (`gateway-box (Gateway)`). */
  readonly name: string;
  /** The SRV target (`gateway-box.local`). */
  readonly host: string;
  readonly port: number;
  readonly addresses: readonly string[];
  readonly protocolVersion: number | undefined;
  readonly tls: boolean;
  readonly tlsFingerprintSha256: string | undefined;
  /** `ws://<first address>:<port>` (`wss://` with TLS). */
  readonly url: string;
  readonly txt: Readonly<Record<string, string>>;
}

/** Options of `browseGateways`. */
export interface BrowseOptions {
  /** How long to listen. @default 2000 */
  timeoutMs?: number;
  /** The IPv4 address of the interface to browse on (default: the OS's multicast interface). */
  interfaceAddress?: string;
}

type Record_ = { name: string; type: string; data: unknown };
const lower = (name: string) => name.toLowerCase().replace(/\.$/, "");
const DOMAIN = `${GATEWAY_SERVICE_TYPE}.local`;

function txtOf(data: unknown): Record<string, string> {
  const entries = Array.isArray(data) ? data : [data];
  const txt: Record<string, string> = {};
  for (const entry of entries) {
    const text = Buffer.isBuffer(entry) ? entry.toString("utf8") : String(entry);
    const at = text.indexOf("=");
    if (at > 0) txt[text.slice(0, at)] = text.slice(at + 1);
  }
  return txt;
}

/** Browse for gateways for `timeoutMs`; resolves with those that answered with a port and an address. */
export async function browseGateways(options: BrowseOptions = {}): Promise<DiscoveredGateway[]> {
  const { default: multicastDns } = await import("multicast-dns");
  const mdns = multicastDns({ ...(options.interfaceAddress ? { interface: options.interfaceAddress } : {}) });
  const instances = new Set<string>();
  const srv = new Map<string, { target: string; port: number }>();
  const txt = new Map<string, Record<string, string>>();
  const addresses = new Map<string, Set<string>>();
  const names = new Map<string, string>();

  const take = (record: Record_) => {
    const name = lower(record.name);
    if (record.type === "PTR" && name === DOMAIN && typeof record.data === "string") {
      const instance = lower(record.data);
      instances.add(instance);
      names.set(instance, record.data.replace(/\.$/, "").slice(0, -(DOMAIN.length + 1)));
    } else if (record.type === "SRV" && name.endsWith(`.${DOMAIN}`)) {
      const data = record.data as { target: string; port: number };
      srv.set(name, { target: lower(data.target), port: data.port });
    } else if (record.type === "TXT" && name.endsWith(`.${DOMAIN}`)) {
      txt.set(name, txtOf(record.data));
    } else if (record.type === "A" && typeof record.data === "string") {
      const set = addresses.get(name) ?? new Set<string>();
      set.add(record.data);
      addresses.set(name, set);
    }
  };
  const ask = () => {
    const questions: Array<{ name: string; type: "PTR" | "SRV" | "TXT" | "A" }> = [{ name: DOMAIN, type: "PTR" }];
    for (const instance of instances) {
      if (!srv.has(instance)) questions.push({ name: instance, type: "SRV" });
      if (!txt.has(instance)) questions.push({ name: instance, type: "TXT" });
      const target = srv.get(instance)?.target;
      if (target && !addresses.has(target)) questions.push({ name: target, type: "A" });
    }
    mdns.query({ questions });
  };

  mdns.on("response", (response: { answers?: Record_[]; additionals?: Record_[] }) => {
    for (const record of [...(response.answers ?? []), ...(response.additionals ?? [])]) take(record);
  });
  const timeoutMs = options.timeoutMs ?? 2_000;
  const timers: NodeJS.Timeout[] = [];
  await new Promise<void>((resolve, reject) => {
    mdns.once("error", reject);
    mdns.once("ready", () => {
      mdns.off("error", reject);
      resolve();
    });
  });
  mdns.on("error", () => undefined);
  ask();
  for (const at of [300, 900, Math.max(1_000, timeoutMs - 500)]) if (at < timeoutMs) timers.push(setTimeout(ask, at));
  await new Promise((resolve) => setTimeout(resolve, timeoutMs));
  for (const timer of timers) clearTimeout(timer);
  await new Promise<void>((resolve) => mdns.destroy(() => resolve()));

  const found: DiscoveredGateway[] = [];
  for (const instance of instances) {
    const service = srv.get(instance);
    const record = txt.get(instance) ?? {};
    const ips = [...(service ? (addresses.get(service.target) ?? []) : [])];
    if (!service || ips.length === 0) continue;
    const tls = record.gatewayTls === "1";
    const protocol = Number.parseInt(record.protocol ?? "", 10);
    found.push({
      name: names.get(instance) ?? instance,
      host: service.target,
      port: service.port,
      addresses: ips,
      protocolVersion: Number.isFinite(protocol) ? protocol : undefined,
      tls,
      tlsFingerprintSha256: record.gatewayTlsSha256,
      url: `${tls ? "wss" : "ws"}://${ips[0]}:${service.port}`,
      txt: record,
    });
  }
  return found.sort((a, b) => a.name.localeCompare(b.name));
}
