// Publishing the gateway's port through `tailscale serve` (the tailnet) or `tailscale funnel` (the internet): checks
// first (auth, a logged-in node, a MagicDNS name, Funnel allowed, port 443 not serving something else), then the
// command, then reads the route back to be sure it is there; `stop()` removes exactly the route it added.
import type { TailscaleMode } from "./config.js";
import type { TailscaleCli } from "./tailscale-cli.js";
import { TailscaleError } from "./tailscale-error.js";
import { parseTailscaleStatus, servedPort } from "./tailscale-status.js";

/** What is exposed now, for `status`. */
export interface TailscaleExposureStatus {
  readonly mode: TailscaleMode;
  readonly state: "starting" | "active" | "failed";
  /** `https://<machine>.<tailnet>.ts.net` once active */
  readonly url?: string;
  readonly error?: string;
}

/** What to expose. */
export interface TailscaleExposeRequest {
  readonly mode: TailscaleMode;
  /** The gateway's port. */
  readonly port: number;
  /** The address the gateway binds (the proxy target is this, or 127.0.0.1 for a wildcard bind). */
  readonly host: string;
  /** The gateway serves TLS itself (the proxy then speaks https to it). */
  readonly tls: boolean;
  /** The gateway's auth mode: serve and funnel both need token or password. */
  readonly authMode: "token" | "password" | "none";
}

/** The HTTPS port Tailscale serves on. */
const HTTPS_PORT = 443;

/** The proxy target `tailscale serve` forwards to. */
export function proxyTarget(request: Pick<TailscaleExposeRequest, "host" | "port" | "tls">): string {
  const wildcard = request.host === "0.0.0.0" || request.host === "::";
  const host = wildcard ? "127.0.0.1" : request.host.includes(":") ? `[${request.host}]` : request.host;
  return `${request.tls ? "https+insecure" : "http"}://${host}:${request.port}`;
}

/** Why a mode cannot be used with an auth mode, or undefined when it can. */
export function authRefusal(mode: TailscaleMode, authMode: TailscaleExposeRequest["authMode"]): string | undefined {
  if (authMode !== "none") return undefined;
  return mode === "funnel"
    ? "gateway.tailscale.mode funnel puts the gateway on the public internet, and gateway.auth.mode is none: anyone could drive your agent. Set gateway.auth.mode to token or password, or use mode serve"
    : "gateway.tailscale.mode serve lets everyone on your tailnet in through the local proxy, and gateway.auth.mode is none: set gateway.auth.mode to token or password";
}

/** One Tailscale route for the gateway. `stop()` is idempotent. */
export class TailscaleExposure {
  #status: TailscaleExposureStatus | undefined;
  #added: TailscaleMode | undefined;

  constructor(private readonly cli: TailscaleCli) {}

  /** undefined while nothing is exposed (mode off, or stopped). */
  get status(): TailscaleExposureStatus | undefined {
    return this.#status;
  }

  /** Expose the port; resolves with the URL. On failure the status says why and the error is thrown. */
  async start(request: TailscaleExposeRequest): Promise<string> {
    const { mode } = request;
    this.#status = { mode, state: "starting" };
    try {
      const url = await this.#expose(request);
      this.#status = { mode, state: "active", url };
      return url;
    } catch (error) {
      this.#status = { mode, state: "failed", error: (error as Error).message };
      throw error;
    }
  }

  async #expose(request: TailscaleExposeRequest): Promise<string> {
    const { mode } = request;
    const refusal = authRefusal(mode, request.authMode);
    if (refusal) throw new TailscaleError("needs-auth", refusal);
    const self = parseTailscaleStatus(await this.cli.run(["status", "--json"]));
    if (self.backendState !== "Running")
      throw new TailscaleError(
        "not-running",
        `Tailscale is not connected on this machine (BackendState ${self.backendState}): run \`tailscale up\`, then reload the gateway's config`,
      );
    if (!self.dnsName)
      throw new TailscaleError(
        "unexpected-output",
        "this machine has no MagicDNS name: turn on MagicDNS and HTTPS certificates in the tailnet's DNS settings",
      );
    if (mode === "funnel" && !self.funnelAllowed)
      throw new TailscaleError(
        "funnel-unavailable",
        'Funnel is not allowed for this machine (no "funnel" node attribute): allow it in the tailnet policy, or use mode serve',
      );
    const target = proxyTarget(request);
    const before = servedPort(await this.cli.run(["serve", "status", "--json"]), self.dnsName, HTTPS_PORT);
    if (before.proxy && before.proxy !== target)
      throw new TailscaleError(
        "port-taken",
        `https://${self.dnsName}/ already serves ${before.proxy}: the gateway does not replace it (\`tailscale serve --https=${HTTPS_PORT} off\` frees it)`,
      );
    await this.cli.run([mode, "--bg", "--yes", target]);
    this.#added = mode;
    const after = servedPort(await this.cli.run(["serve", "status", "--json"]), self.dnsName, HTTPS_PORT);
    if (after.proxy !== target || (mode === "funnel" && !after.funnel))
      throw new TailscaleError(
        "unexpected-output",
        `\`tailscale ${mode}\` succeeded but \`tailscale serve status\` shows ${after.proxy ?? "no route"}${mode === "funnel" && !after.funnel ? " without Funnel" : ""} for https://${self.dnsName}/`,
      );
    return `https://${self.dnsName}`;
  }

  /** Remove the route this exposure added (nothing else). */
  async stop(): Promise<void> {
    const added = this.#added;
    this.#added = undefined;
    this.#status = undefined;
    if (added) await this.cli.run([added, `--https=${HTTPS_PORT}`, "off"]);
  }
}
