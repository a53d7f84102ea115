// Reading what `tailscale status --json` and `tailscale serve status --json` print: the parts the gateway needs, with
// every field checked (the JSON comes from another program and may be from another version).
import { TailscaleError } from "./tailscale-error.js";

/** This machine on its tailnet. */
export interface TailnetSelf {
  /** `Running`, `NeedsLogin`, `Stopped`, `Starting`… */
  readonly backendState: string;
  /** The MagicDNS name without the trailing dot (`gateway-box.tail1234.ts.net`), when MagicDNS is on. */
  readonly dnsName: string | undefined;
  readonly ips: readonly string[];
  /** Whether the node may use Funnel (the `funnel` node attribute). */
  readonly funnelAllowed: boolean;
}

/** What `tailscale serve status --json` says about one HTTPS port. */
export interface ServedPort {
  /** The `Proxy` target of the `/` handler (`http://127.0.0.1:18789`), if any. */
  readonly proxy: string | undefined;
  readonly funnel: boolean;
}

function parseObject(stdout: string, command: string): Record<string, unknown> {
  // Some versions print a warning line before the JSON.
  const start = stdout.indexOf("{");
  try {
    const value: unknown = JSON.parse(start >= 0 ? stdout.slice(start) : stdout);
    if (typeof value === "object" && value !== null && !Array.isArray(value)) return value as Record<string, unknown>;
  } catch {
    // reported below
  }
  throw new TailscaleError("unexpected-output", `\`${command}\` did not print a JSON object: ${stdout.slice(0, 200)}`);
}

const record = (value: unknown): Record<string, unknown> | undefined =>
  typeof value === "object" && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined;

/** Parse `tailscale status --json`. */
export function parseTailscaleStatus(stdout: string): TailnetSelf {
  const status = parseObject(stdout, "tailscale status --json");
  const self = record(status.Self);
  const dns = typeof self?.DNSName === "string" && self.DNSName ? self.DNSName.replace(/\.$/, "") : undefined;
  const ips = Array.isArray(self?.TailscaleIPs) ? self.TailscaleIPs.filter((ip) => typeof ip === "string") : [];
  const capabilities = Array.isArray(self?.Capabilities) ? self.Capabilities : [];
  const capMap = record(self?.CapMap) ?? {};
  return {
    backendState: typeof status.BackendState === "string" ? status.BackendState : "Unknown",
    dnsName: dns,
    ips,
    funnelAllowed: "funnel" in capMap || capabilities.includes("https://tailscale.com/cap/funnel"),
  };
}

/** Parse `tailscale serve status --json` for `https://<dnsName>:<port>` (an empty config is `{}`). */
export function servedPort(stdout: string, dnsName: string, port = 443): ServedPort {
  const config = parseObject(stdout.trim() === "" ? "{}" : stdout, "tailscale serve status --json");
  const key = `${dnsName}:${port}`;
  const handlers = record(record(record(config.Web)?.[key])?.Handlers);
  const root = record(handlers?.["/"]);
  return {
    proxy: typeof root?.Proxy === "string" ? root.Proxy : undefined,
    funnel: record(config.AllowFunnel)?.[key] === true,
  };
}
