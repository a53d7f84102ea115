// Tailscale identity headers (`Tailscale-User-Login`, `Tailscale-User-Name`) are set by the local `tailscale serve`
// proxy — and by anyone else who can send a request. They are believed only when all of these hold: the gateway
// itself set up `tailscale serve`; the request came from the proxy (a loopback peer carrying the proxy's
// X-Forwarded-* headers); it is not Funnel traffic (the public internet has no tailnet identity); the forwarded
// client address is a tailnet address; and `tailscale whois` of that address names the same login.
import { isIP } from "node:net";
import type { TailscaleCli } from "./tailscale-cli.js";

/** A tailnet user the local proxy vouched for and `whois` confirmed. */
export interface TailscaleIdentity {
  readonly login: string;
  readonly name: string | undefined;
  /** The tailnet address the request came from. */
  readonly clientIp: string;
}

/** Looks up who holds a tailnet address (`tailscale whois`); undefined when nobody does. */
export type TailscaleWhois = (ip: string) => Promise<{ login: string; name?: string } | undefined>;

/** The request as the server saw it. */
export interface ProxiedRequest {
  /** The TCP peer. */
  readonly remoteAddress: string | undefined;
  readonly headers: Readonly<Record<string, string | string[] | undefined>>;
}

const header = (request: ProxiedRequest, name: string): string | undefined => {
  const value = request.headers[name];
  return (Array.isArray(value) ? value[0] : value)?.trim() || undefined;
};

function isLoopbackPeer(address: string | undefined): boolean {
  if (!address) return false;
  const value = address.replace(/^::ffff:/, "");
  return value === "::1" || (isIP(value) === 4 && value.startsWith("127."));
}

/** 100.64.0.0/10 (Tailscale's CGNAT range) or fd7a:115c:a1e0::/48 (its ULA range). */
export function isTailnetAddress(address: string): boolean {
  if (isIP(address) === 4) {
    const [first, second] = address.split(".").map(Number);
    return first === 100 && second !== undefined && second >= 64 && second <= 127;
  }
  return isIP(address) === 6 && address.toLowerCase().startsWith("fd7a:115c:a1e0:");
}

/**
 * Whether a request came through a local proxy at all (a loopback peer with forwarded or Tailscale headers). Such a
 * request is never "local": loopback trust (auto-approval, auth none) must not apply to it.
 */
export function isProxiedRequest(request: ProxiedRequest): boolean {
  if (!isLoopbackPeer(request.remoteAddress)) return false;
  return Object.keys(request.headers).some(
    (name) => name.toLowerCase().startsWith("x-forwarded-") || name.toLowerCase().startsWith("tailscale-"),
  );
}

/**
 * The tailnet identity of a request, or undefined when its identity headers must not be believed. `serving` is
 * whether this gateway set up `tailscale serve` (mode serve, active); with mode off or funnel nothing is trusted.
 */
export async function verifyTailscaleIdentity(
  request: ProxiedRequest,
  options: { serving: boolean; whois: TailscaleWhois },
): Promise<TailscaleIdentity | undefined> {
  if (!options.serving || !isLoopbackPeer(request.remoteAddress)) return undefined;
  if (header(request, "tailscale-funnel-request") !== undefined) return undefined;
  const login = header(request, "tailscale-user-login");
  const forwardedFor = header(request, "x-forwarded-for");
  if (!login || !forwardedFor || !header(request, "x-forwarded-proto") || !header(request, "x-forwarded-host"))
    return undefined;
  // The proxy appends the peer it saw: the last entry is the one it vouches for.
  const clientIp = forwardedFor.split(",").at(-1)?.trim() ?? "";
  if (!isTailnetAddress(clientIp)) return undefined;
  let confirmed: Awaited<ReturnType<TailscaleWhois>>;
  try {
    confirmed = await options.whois(clientIp);
  } catch {
    return undefined;
  }
  if (!confirmed || confirmed.login.toLowerCase() !== login.toLowerCase()) return undefined;
  return { login: confirmed.login, name: confirmed.name ?? header(request, "tailscale-user-name"), clientIp };
}

/** `tailscale whois --json <ip>` with a short cache (answers 60 s, failures 5 s), bounded in size. */
export function createTailscaleWhois(
  cli: TailscaleCli,
  options: { ttlMs?: number; now?: () => number } = {},
): TailscaleWhois {
  const ttlMs = options.ttlMs ?? 60_000;
  const now = options.now ?? Date.now;
  const cache = new Map<string, { until: number; value: { login: string; name?: string } | undefined }>();
  return async (ip) => {
    const hit = cache.get(ip);
    if (hit && hit.until > now()) return hit.value;
    let value: { login: string; name?: string } | undefined;
    let keepMs = ttlMs;
    try {
      const parsed = JSON.parse(await cli.run(["whois", "--json", ip])) as {
        UserProfile?: { LoginName?: unknown; DisplayName?: unknown };
      };
      const login = parsed.UserProfile?.LoginName;
      const name = parsed.UserProfile?.DisplayName;
      value =
        typeof login === "string" && login
          ? { login, ...(typeof name === "string" && name ? { name } : {}) }
          : undefined;
    } catch {
      value = undefined;
      keepMs = Math.min(ttlMs, 5_000);
    }
    if (cache.size >= 1_000) cache.delete(cache.keys().next().value as string);
    cache.set(ip, { until: now() + keepMs, value });
    return value;
  };
}
