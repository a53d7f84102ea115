import { describe, expect, it } from "vitest";
import { exposureFindings } from "../src/exposure-checks.js";

describe("doctor's exposure findings", () => {
  it("says nothing is exposed by default", () => {
    expect(exposureFindings({})).toEqual([
      { check: "exposure", status: "ok", detail: "nothing beyond the gateway's port (docs/exposure.md)" },
    ]);
  });

  it("warns about a canvas host off loopback and about funnel, and notes mDNS on a LAN bind", () => {
    const findings = exposureFindings({
      gateway: { bind: "lan", tailscale: { mode: "funnel" } },
      canvasHost: { enabled: true, host: "0.0.0.0" },
    });
    expect(findings.map((finding) => [finding.check, finding.status])).toEqual([
      ["canvas", "warn"],
      ["tailscale", "warn"],
      ["mdns", "ok"],
    ]);
    expect(findings[0]?.detail).toContain("it has no auth");
    expect(findings[1]?.detail).toContain("public internet");
  });

  it("is quiet about a loopback canvas, serve, and mDNS turned off", () => {
    const findings = exposureFindings({
      gateway: { bind: "lan", tailscale: { mode: "serve" } },
      canvasHost: { enabled: true },
      discovery: { mdns: { mode: "off" } },
    });
    expect(findings.map((finding) => finding.check)).toEqual(["exposure"]);
  });
});
