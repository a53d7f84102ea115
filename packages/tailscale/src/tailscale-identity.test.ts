import { describe, expect, it, vi } from "vitest";
import {
  isProxiedRequest,
  isTailnetAddress,
  type ProxiedRequest,
  verifyTailscaleIdentity,
} from "./tailscale-identity.js";

const proxied: ProxiedRequest = {
  remoteAddress: "127.0.0.1",
  headers: {
    "x-forwarded-for": "100.90.80.70",
    "x-forwarded-proto": "https",
    "x-forwarded-host": "gateway-box.tail1234.ts.net",
    "tailscale-user-login": "ada@example.com",
    "tailscale-user-name": "Ada Lovelace",
  },
};
const whois = vi.fn(async (ip: string) =>
  ip === "100.90.80.70" ? { login: "ada@example.com", name: "Ada L." } : undefined,
);
const verify = (request: ProxiedRequest, serving = true) => verifyTailscaleIdentity(request, { serving, whois });
const withHeaders = (headers: Record<string, string | undefined>): ProxiedRequest => ({
  ...proxied,
  headers: { ...proxied.headers, ...headers },
});

describe("verifyTailscaleIdentity", () => {
  it("believes the local serve proxy when whois names the same login", async () => {
    expect(await verify(proxied)).toEqual({ login: "ada@example.com", name: "Ada L.", clientIp: "100.90.80.70" });
    expect(await verify(withHeaders({ "tailscale-user-login": "ADA@example.com" }))).toMatchObject({
      login: "ada@example.com",
    });
  });

  it("believes nothing unless this gateway is serving", async () => {
    expect(await verify(proxied, false)).toBeUndefined();
  });

  it("believes nothing from a peer that is not the local proxy", async () => {
    expect(await verify({ ...proxied, remoteAddress: "100.90.80.70" })).toBeUndefined();
    expect(await verify({ ...proxied, remoteAddress: "192.168.1.20" })).toBeUndefined();
  });

  it("believes nothing without the proxy's forwarded headers, from Funnel, or from a non-tailnet client", async () => {
    expect(await verify(withHeaders({ "x-forwarded-host": undefined }))).toBeUndefined();
    expect(await verify(withHeaders({ "tailscale-funnel-request": "?1" }))).toBeUndefined();
    expect(await verify(withHeaders({ "x-forwarded-for": "203.0.113.9" }))).toBeUndefined();
    expect(await verify(withHeaders({ "x-forwarded-for": "127.0.0.1" }))).toBeUndefined();
    expect(await verify(withHeaders({ "tailscale-user-login": undefined }))).toBeUndefined();
  });

  it("takes the address the proxy appended, not one a client put first", async () => {
    expect(await verify(withHeaders({ "x-forwarded-for": "100.90.80.70, 100.64.0.9" }))).toBeUndefined();
    expect(await verify(withHeaders({ "x-forwarded-for": "203.0.113.9, 100.90.80.70" }))).toMatchObject({
      clientIp: "100.90.80.70",
    });
  });

  it("believes nothing when whois names someone else or fails", async () => {
    expect(await verify(withHeaders({ "tailscale-user-login": "mallory@example.com" }))).toBeUndefined();
    const failing = () => Promise.reject(new Error("tailscaled down"));
    expect(await verifyTailscaleIdentity(proxied, { serving: true, whois: failing })).toBeUndefined();
  });
});

describe("isProxiedRequest / isTailnetAddress", () => {
  it("a loopback peer with forwarded or Tailscale headers is proxied, never local", () => {
    expect(isProxiedRequest(proxied)).toBe(true);
    expect(isProxiedRequest({ remoteAddress: "::1", headers: { "tailscale-user-login": "x" } })).toBe(true);
    expect(isProxiedRequest({ remoteAddress: "127.0.0.1", headers: { host: "localhost" } })).toBe(false);
    expect(isProxiedRequest({ remoteAddress: "10.0.0.2", headers: { "x-forwarded-for": "1.2.3.4" } })).toBe(false);
  });
  it("knows Tailscale's address ranges", () => {
    expect(isTailnetAddress("100.64.0.1")).toBe(true);
    expect(isTailnetAddress("100.127.255.254")).toBe(true);
    expect(isTailnetAddress("100.128.0.1")).toBe(false);
    expect(isTailnetAddress("fd7a:115c:a1e0::3b01:5047")).toBe(true);
    expect(isTailnetAddress("fd00::2")).toBe(false);
  });
});
