import { hostname } from "node:os";
import { describe, expect, it } from "vitest";
import { isAllowedHost, isAllowedOrigin, isLoopback } from "./front-door.js";

const settings = { bindHost: "127.0.0.1", allowedHosts: [], allowedOrigins: [] };

describe("the front door", () => {
  it("takes only loopback literals as loopback, never a name that starts like one", () => {
    for (const address of ["127.0.0.1", "127.8.9.10", "::1", "[::1]", "::ffff:127.0.0.1", "localhost", "LOCALHOST"])
      expect(isLoopback(address), address).toBe(true);
    for (const address of ["127.0.0.1.rebind.example", "127.evil", "localhost.evil", "::ffff:10.0.0.1", "10.0.0.1", ""])
      expect(isLoopback(address), address).toBe(false);
  });

  it("answers to IP literals, localhost and this machine's name; not to other names", () => {
    for (const host of [
      "127.0.0.1:1",
      "[::1]:1",
      "10.1.2.3",
      "localhost:18789",
      `${hostname()}:1`,
      `${hostname()}.local`,
    ])
      expect(isAllowedHost(host, settings), host).toBe(true);
    for (const host of ["127.0.0.1.rebind.example:1", "evil.example", "", "a b"])
      expect(isAllowedHost(host, settings), host).toBe(false);
    expect(isAllowedHost(undefined, settings)).toBe(true);
  });

  it("answers to configured names, the bind host's name and allowed origins' hosts", () => {
    const configured = {
      bindHost: "gateway.lan",
      allowedHosts: [".proxy.example", "exact.example"],
      allowedOrigins: ["https://ui.example"],
    };
    for (const host of ["gateway.lan:1", "a.proxy.example", "proxy.example", "exact.example", "ui.example"])
      expect(isAllowedHost(host, configured), host).toBe(true);
    for (const host of ["sub.exact.example", "proxy.example.evil", "xproxy.example"])
      expect(isAllowedHost(host, configured), host).toBe(false);
  });

  it("accepts a browser Origin only when it is the gateway's own on an allowed host, or allowlisted", () => {
    expect(isAllowedOrigin(undefined, "127.0.0.1:1", settings)).toBe(true);
    expect(isAllowedOrigin("http://127.0.0.1:1", "127.0.0.1:1", settings)).toBe(true);
    expect(isAllowedOrigin("http://127.0.0.1:2", "127.0.0.1:1", settings)).toBe(false);
    expect(isAllowedOrigin("null", "127.0.0.1:1", settings)).toBe(false);
    const rebound = "127.0.0.1.rebind.example:1";
    expect(isAllowedOrigin(`http://${rebound}`, rebound, settings)).toBe(false);
    expect(
      isAllowedOrigin("https://ui.example", "127.0.0.1:1", { ...settings, allowedOrigins: ["https://ui.example"] }),
    ).toBe(true);
  });
});
