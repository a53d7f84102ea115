// What `gateway doctor` says about the parts that expose the gateway beyond its port (docs/exposure.md): each is
// fine off, and a warning when it shows the gateway or the canvas to more than this machine.
import { isLoopback } from "@gateway/server";

/** One doctor finding about exposure. */
export interface ExposureFinding {
  check: string;
  status: "ok" | "warn";
  detail: string;
  fix?: string;
}

interface ExposureConfig {
  gateway?: { bind?: string; host?: string; tailscale?: { mode?: string } };
  canvasHost?: { enabled?: boolean; host?: string };
  discovery?: { mdns?: { mode?: string } };
}

/** Findings for the canvas host, Tailscale and mDNS from the local config. */
export function exposureFindings(config: Record<string, unknown>): ExposureFinding[] {
  const { gateway, canvasHost, discovery } = config as ExposureConfig;
  const findings: ExposureFinding[] = [];
  if (canvasHost?.enabled === true && !isLoopback(canvasHost.host ?? "127.0.0.1"))
    findings.push({
      check: "canvas",
      status: "warn",
      detail: `the canvas host binds ${canvasHost.host}: anyone who reaches it sees what the agent draws (it has no auth)`,
      fix: "set canvasHost.host to 127.0.0.1 unless that network may see the canvas",
    });
  const mode = gateway?.tailscale?.mode ?? "off";
  if (mode === "funnel")
    findings.push({
      check: "tailscale",
      status: "warn",
      detail: "gateway.tailscale.mode is funnel: the gateway is on the public internet",
      fix: "use mode serve (your tailnet only) unless strangers must reach it; keep a long gateway.auth.token",
    });
  const beyondLoopback = (gateway?.bind ?? "loopback") !== "loopback" && !isLoopback(gateway?.host ?? "");
  if (beyondLoopback && discovery?.mdns?.mode !== "off")
    findings.push({
      check: "mdns",
      status: "ok",
      detail: "the gateway announces itself on the local network (_openclaw-gw._tcp; discovery.mdns.mode off stops it)",
    });
  if (findings.length === 0)
    findings.push({ check: "exposure", status: "ok", detail: "nothing beyond the gateway's port (docs/exposure.md)" });
  return findings;
}
