// The front door: which Host names the gateway answers to and which browser Origins may open a WebSocket. A DNS
// rebinding page (`http://127.0.0.1.rebind.example:PORT`, resolving to 127.0.0.1) reaches a loopback gateway with
// its own name in `Host` and `Origin`; comparing names as strings by prefix let it in. Names are parsed, and only IP
// literals, `localhost`, this machine's own name and configured names are trusted.
import { isIP } from "node:net";
import { hostname as machineHostname } from "node:os";

/** What the front door checks against. */
export interface FrontDoorSettings {
  /** The address the gateway binds (a name here is one the gateway answers to). */
  readonly bindHost: string;
  /** Extra names clients use to reach the gateway (a reverse proxy's, a DNS name); `.example.com` matches subdomains. */
  readonly allowedHosts: readonly string[];
  /** Browser origins allowed besides the gateway's own (their host names are allowed too). */
  readonly allowedOrigins: readonly string[];
}

/** Strip IPv6 brackets and lower-case. */
function bare(address: string): string {
  return address.replace(/^\[|\]$/g, "").toLowerCase();
}

/**
 * Whether an address (a bind address, a socket's remote address, or a host name from a header) is loopback:
 * 127.0.0.0/8, ::1, an IPv4-mapped 127 address, or exactly `localhost`. Names are never matched by prefix.
 */
export function isLoopback(address: string | undefined): boolean {
  if (!address) return false;
  const value = bare(address);
  if (value === "localhost") return true;
  const family = isIP(value);
  if (family === 4) return value.split(".")[0] === "127";
  if (family === 6) return value === "::1" || value === "0:0:0:0:0:0:0:1" || /^::ffff:127\./.test(value);
  return false;
}

/** The host name of a `Host` header value (`name:port`, `[::1]:port`), normalised by the URL parser; "" if invalid. */
export function hostnameOf(host: string): string {
  try {
    return bare(new URL(`http://${host}`).hostname);
  } catch {
    return "";
  }
}

function originHostname(origin: string): string {
  try {
    return bare(new URL(origin).hostname);
  } catch {
    return "";
  }
}

function nameMatches(name: string, pattern: string): boolean {
  const wanted = pattern.toLowerCase();
  return wanted.startsWith(".") ? name === wanted.slice(1) || name.endsWith(wanted) : name === wanted;
}

/**
 * Whether a `Host` header names this gateway. An IP literal cannot be rebound, so any is accepted; a DNS name must be
 * `localhost`, this machine's name (or `<name>.local`), the bind host, a configured name, or an allowed origin's.
 * A request without `Host` is not from a browser (browsers always send it) and passes.
 */
export function isAllowedHost(host: string | undefined, settings: FrontDoorSettings): boolean {
  if (host === undefined) return true;
  const name = hostnameOf(host);
  if (!name) return false;
  if (isIP(name) !== 0 || name === "localhost") return true;
  const machine = machineHostname().toLowerCase();
  if (name === machine || name === `${machine}.local`) return true;
  if (isIP(settings.bindHost) === 0 && name === bare(settings.bindHost)) return true;
  if (settings.allowedHosts.some((pattern) => nameMatches(name, pattern))) return true;
  return settings.allowedOrigins.some((origin) => originHostname(origin) === name);
}

/**
 * Whether a browser `Origin` may use the gateway: an allowed origin, or the gateway's own (the origin of the `Host`
 * the request came to, when that host is allowed). No `Origin`: not a browser, passes. `null` never does.
 */
export function isAllowedOrigin(
  origin: string | undefined,
  host: string | undefined,
  settings: FrontDoorSettings,
): boolean {
  if (origin === undefined) return true;
  const normalised = origin.toLowerCase();
  if (settings.allowedOrigins.some((allowed) => allowed.toLowerCase() === normalised)) return true;
  if (!host || !isAllowedHost(host, settings)) return false;
  const own = host.toLowerCase();
  return normalised === `http://${own}` || normalised === `https://${own}`;
}

/** The sentence a refused request gets, naming the setting that would let it in. */
export function hostRefusal(host: string): string {
  return `Host "${host}" is not a name this gateway answers to (a DNS-rebinding guard). If you reach the gateway through it, add it to gateway.allowedHosts.`;
}

/** The close reason of a socket whose Origin was refused at the upgrade (close reasons hold at most 123 bytes). */
export const ORIGIN_REFUSAL_REASON = "this page's origin is not allowed: add it to gateway.controlUi.allowedOrigins";

/** The sentence a refused browser origin gets. */
export function originRefusal(origin: string): string {
  return `Origin ${origin} is not allowed to connect. Add it to gateway.controlUi.allowedOrigins if you trust it.`;
}
