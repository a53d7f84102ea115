// Tailscale exposure through the real CLI runner against a fake `tailscale` on PATH: the commands it runs, what it
// reads back, the refusals and their reasons, and the undo on stop. Nothing contacts a tailnet.
import { afterEach, describe, expect, it } from "vitest";
import { createTailscaleWhois, TailscaleCli, TailscaleError, TailscaleExposure } from "../src/index.js";
import { type FakeScenario, type FakeTailscale, installFakeTailscale } from "./fake.js";

const fakes: FakeTailscale[] = [];
afterEach(() => {
  for (const fake of fakes.splice(0)) fake.remove();
});

function setup(scenario: FakeScenario = {}) {
  const fake = installFakeTailscale(scenario);
  fakes.push(fake);
  const exposure = new TailscaleExposure(new TailscaleCli({ env: fake.env }));
  return { fake, exposure };
}

const request = { port: 18789, host: "127.0.0.1", tls: false, authMode: "token" } as const;

describe("TailscaleExposure", () => {
  it("serve: checks the node, adds the route, reads it back, shows the tailnet URL, and removes only it on stop", async () => {
    const { fake, exposure } = setup();
    expect(await exposure.start({ ...request, mode: "serve" })).toBe("https://gateway-box.tail1234.ts.net");
    expect(exposure.status).toEqual({ mode: "serve", state: "active", url: "https://gateway-box.tail1234.ts.net" });
    expect(fake.calls()).toEqual([
      ["status", "--json"],
      ["serve", "status", "--json"],
      ["serve", "--bg", "--yes", "http://127.0.0.1:18789"],
      ["serve", "status", "--json"],
    ]);
    await exposure.stop();
    await exposure.stop();
    expect(fake.calls().slice(4)).toEqual([["serve", "--https=443", "off"]]);
    expect(fake.serveConfig()).toEqual({ TCP: {}, Web: {} });
    expect(exposure.status).toBeUndefined();
  });

  it("funnel: the same route with Funnel on; TLS gateways are proxied over https", async () => {
    const { fake, exposure } = setup();
    await exposure.start({ ...request, mode: "funnel", tls: true, host: "0.0.0.0" });
    expect(fake.calls()[2]).toEqual(["funnel", "--bg", "--yes", "https+insecure://127.0.0.1:18789"]);
    expect(fake.serveConfig()).toMatchObject({ AllowFunnel: { "gateway-box.tail1234.ts.net:443": true } });
    await exposure.stop();
    expect(fake.calls().at(-1)).toEqual(["funnel", "--https=443", "off"]);
  });

  it("funnel refuses auth none before running anything, and says why", async () => {
    const { fake, exposure } = setup();
    const failure = exposure.start({ ...request, mode: "funnel", authMode: "none" });
    await expect(failure).rejects.toThrow(/public internet, and gateway.auth.mode is none/);
    await expect(failure).rejects.toMatchObject({ code: "needs-auth" });
    expect(fake.calls()).toEqual([]);
    expect(exposure.status).toMatchObject({ mode: "funnel", state: "failed" });
  });

  it("serve refuses auth none too: tailnet peers would arrive through the loopback proxy", async () => {
    const { fake, exposure } = setup();
    await expect(exposure.start({ ...request, mode: "serve", authMode: "none" })).rejects.toThrow(
      "everyone on your tailnet in through the local proxy",
    );
    expect(fake.calls()).toEqual([]);
  });

  it.each([
    [{ backend: "NeedsLogin" } as FakeScenario, "serve", "not-running", "BackendState NeedsLogin): run `tailscale up`"],
    [{ backend: "down" } as FakeScenario, "serve", "daemon-unreachable", "cannot reach tailscaled"],
    [{ funnel: false } as FakeScenario, "funnel", "funnel-unavailable", 'no "funnel" node attribute'],
    [{ denied: true } as FakeScenario, "serve", "access-denied", "sudo tailscale set --operator=$USER"],
  ] as const)("refuses with a reason (%j %s)", async (scenario, mode, code, message) => {
    const { fake, exposure } = setup(scenario);
    const failure = exposure.start({ ...request, mode });
    await expect(failure).rejects.toSatisfy(
      (error: unknown) => TailscaleError.isInstance(error) && error.code === code && error.message.includes(message),
    );
    expect(exposure.status).toMatchObject({ mode, state: "failed", error: expect.stringContaining(message) });
    await exposure.stop();
    expect(fake.calls().some((call) => call.at(-1) === "off")).toBe(false);
  });

  it("never replaces a route someone else set up on port 443", async () => {
    const { fake, exposure } = setup({
      serve: { Web: { "gateway-box.tail1234.ts.net:443": { Handlers: { "/": { Proxy: "http://127.0.0.1:3000" } } } } },
    });
    await expect(exposure.start({ ...request, mode: "serve" })).rejects.toThrow(
      "https://gateway-box.tail1234.ts.net/ already serves http://127.0.0.1:3000",
    );
    expect(fake.calls().map((call) => call[0] === "serve" && call[1] === "--bg")).not.toContain(true);
  });

  it("says so when tailscale is not installed", async () => {
    const exposure = new TailscaleExposure(new TailscaleCli({ env: { PATH: "/nonexistent" } }));
    await expect(exposure.start({ ...request, mode: "serve" })).rejects.toThrow(
      "tailscale was not found on PATH: install Tailscale",
    );
  });
});

describe("createTailscaleWhois", () => {
  it("asks `tailscale whois --json` and caches the answer", async () => {
    const fake = installFakeTailscale();
    fakes.push(fake);
    let now = 0;
    const whois = createTailscaleWhois(new TailscaleCli({ env: fake.env }), { now: () => now });
    expect(await whois("100.90.80.70")).toEqual({ login: "ada@example.com", name: "Ada Lovelace" });
    expect(await whois("100.90.80.70")).toEqual({ login: "ada@example.com", name: "Ada Lovelace" });
    expect(await whois("100.64.0.9")).toBeUndefined();
    expect(fake.calls()).toEqual([
      ["whois", "--json", "100.90.80.70"],
      ["whois", "--json", "100.64.0.9"],
    ]);
    now = 61_000;
    await whois("100.90.80.70");
    expect(fake.calls()).toHaveLength(3);
  });
});
