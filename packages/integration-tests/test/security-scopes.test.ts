// Security regression suite — what a connection may do once it is in (SECURITY.md): scopes are granted by policy and
// approval, never by what a client declares.
import { createGatewayClient, createMemoryKeyStore, loadDeviceIdentity } from "@gateway/client";
import { afterEach, describe, expect, it } from "vitest";
import { startGateway, stopAll, TOKEN } from "./harness.js";
import { attempt, call, operatorParams } from "./security-helpers.js";

afterEach(stopAll);

describe("security: scopes", () => {
  it("an omitted scope list grants no scopes (as the reference), not all", async () => {
    const { url } = await startGateway();
    const result = await attempt(url, () => operatorParams({ scopes: undefined, auth: { token: TOKEN } }));
    expect(result.response?.payload.auth).toEqual({ role: "operator", scopes: [] });
    const status = await call(result.socket!, "status");
    expect(status.error.code).toBe("FORBIDDEN");
    result.socket!.close();
  });

  it("GHSA-rqpp-rjj8-7wv8: self-declared admin scopes of a device-less browser connection are bounded by policy", async () => {
    const { url, port } = await startGateway({ gateway: { auth: { mode: "none" } } });
    const result = await attempt(
      url,
      () => operatorParams({ scopes: ["operator.admin", "operator.pairing"], auth: {} }),
      { origin: `http://127.0.0.1:${port}` },
    );
    expect(result.response?.payload.auth.scopes).toEqual([]);
    const apply = await call(result.socket!, "config.apply", { raw: "{}", baseHash: "x" });
    expect(apply.error.code).toBe("FORBIDDEN");
    result.socket!.close();
  });

  it("a device's scopes are bounded by its approval; its token never widens them", async () => {
    const gateway = await startGateway();
    const device = await loadDeviceIdentity(createMemoryKeyStore());
    const first = createGatewayClient({
      url: gateway.url,
      token: TOKEN,
      device,
      reconnect: false,
      scopes: ["operator.read"],
    });
    const hello = await first.ready();
    first.close();
    // the device token asks for admin: refused as a scope upgrade that needs approval, not granted
    const wider = createGatewayClient({
      url: gateway.url,
      deviceToken: hello.auth.deviceToken!,
      device,
      reconnect: false,
      scopes: ["operator.read", "operator.admin"],
    });
    await expect(wider.ready()).rejects.toMatchObject({ detailCode: "PAIRING_REQUIRED" });
    const operator = await gateway.client({ scopes: ["operator.pairing"] });
    await expect(
      operator.request("device.token.rotate", {
        deviceId: device.deviceId,
        role: "operator",
        scopes: ["operator.admin"],
      }),
    ).rejects.toThrow(/never widens/);
    wider.close();
  });

  it("CVE-2026-25593: config.apply / config.patch / config.set need operator.admin", async () => {
    const gateway = await startGateway();
    const writer = await gateway.client({ scopes: ["operator.read", "operator.write", "operator.pairing"] });
    const { hash } = await writer.request("config.get");
    for (const [method, params] of [
      ["config.apply", { raw: "{ gateway: { port: 0 } }", baseHash: hash }],
      ["config.patch", { raw: '{ logging: { level: "debug" } }', baseHash: hash }],
      ["config.set", { raw: "{}", baseHash: hash }],
    ] as const) {
      await expect(writer.call(method, params)).rejects.toMatchObject({ code: "FORBIDDEN" });
    }
    const admin = await gateway.client({ scopes: ["operator.admin"] });
    expect((await admin.request("config.get")).hash).toBe(hash);
  });
});
