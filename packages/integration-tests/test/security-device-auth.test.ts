// Security regression suite — device authentication (SECURITY.md): each test reproduces an attack against a real,
// listening gateway and asserts that it fails.
import { createGatewayClient, createMemoryKeyStore, loadDeviceIdentity } from "@gateway/client";
import { eventually } from "@gateway/vitest-preset/wait";
import { afterEach, describe, expect, it } from "vitest";
import { startGateway, stopAll, TOKEN } from "./harness.js";
import { attempt, deviceBlock, newDevice, operatorParams } from "./security-helpers.js";

afterEach(stopAll);

const SCOPES = ["operator.read"];
const signed = (nonce: string, extra: { token?: string; signedAt?: number; scopes?: string[] } = {}) => ({
  clientId: "security-test",
  clientMode: "test",
  role: "operator",
  scopes: extra.scopes ?? SCOPES,
  nonce,
  ...extra,
});

async function refusedWith(url: string, build: (nonce: string) => Record<string, unknown>) {
  const result = await attempt(url, build);
  expect(result.response?.ok, JSON.stringify(result.response)).toBe(false);
  const { code, reason } = await result.close;
  expect(code).toBe(1008);
  expect(reason.length).toBeGreaterThan(0);
  return result.response!.error!;
}

describe("security: device signatures", () => {
  it("a forged signature (another key's, or over other scopes) is refused with DEVICE_AUTH_SIGNATURE_INVALID", async () => {
    const { url } = await startGateway();
    const device = newDevice();
    const impostor = newDevice();
    const forged = await refusedWith(url, (nonce) => {
      const block = deviceBlock(impostor, signed(nonce, { token: TOKEN }));
      return operatorParams({
        scopes: SCOPES,
        auth: { token: TOKEN },
        device: { ...block, id: device.id, publicKey: device.publicKey },
      });
    });
    expect(forged.details.code).toBe("DEVICE_AUTH_SIGNATURE_INVALID");
    // signed for read, asking for admin
    const widened = await refusedWith(url, (nonce) =>
      operatorParams({
        scopes: ["operator.admin"],
        auth: { token: TOKEN },
        device: deviceBlock(device, signed(nonce, { token: TOKEN })),
      }),
    );
    expect(widened.details.code).toBe("DEVICE_AUTH_SIGNATURE_INVALID");
  });

  it("an expired signature is refused with DEVICE_AUTH_SIGNATURE_EXPIRED", async () => {
    const { url } = await startGateway();
    const device = newDevice();
    const error = await refusedWith(url, (nonce) =>
      operatorParams({
        scopes: SCOPES,
        auth: { token: TOKEN },
        device: deviceBlock(device, signed(nonce, { token: TOKEN, signedAt: Date.now() - 5 * 60_000 })),
      }),
    );
    expect(error.details.code).toBe("DEVICE_AUTH_SIGNATURE_EXPIRED");
    expect(error.message).toMatch(/2 minutes/);
  });

  it("a replayed connect (a signature over another connection's nonce) is refused with DEVICE_AUTH_NONCE_MISMATCH", async () => {
    const { url } = await startGateway();
    const device = newDevice();
    let captured: Record<string, unknown> | undefined;
    const first = await attempt(url, (nonce) => {
      captured = operatorParams({
        scopes: SCOPES,
        auth: { token: TOKEN },
        device: deviceBlock(device, signed(nonce, { token: TOKEN })),
      });
      return captured;
    });
    expect(first.response?.ok).toBe(true);
    first.socket?.close();
    const replay = await refusedWith(url, () => captured!);
    expect(replay.details.code).toBe("DEVICE_AUTH_NONCE_MISMATCH");
  });

  it("a device id that is not the hash of its key is refused with DEVICE_AUTH_DEVICE_ID_MISMATCH", async () => {
    const { url } = await startGateway();
    const device = newDevice();
    const error = await refusedWith(url, (nonce) =>
      operatorParams({
        scopes: SCOPES,
        auth: { token: TOKEN },
        device: { ...deviceBlock(device, signed(nonce, { token: TOKEN })), id: "f".repeat(64) },
      }),
    );
    expect(error.details.code).toBe("DEVICE_AUTH_DEVICE_ID_MISMATCH");
  });

  it("CVE-2026-28472: the device check never depends on a token being present (wrong or right)", async () => {
    const { url } = await startGateway();
    const device = newDevice();
    const impostor = newDevice();
    const forgedBlock = (nonce: string, token: string) => ({
      ...deviceBlock(impostor, signed(nonce, { token })),
      id: device.id,
      publicKey: device.publicKey,
    });
    const wrongToken = await refusedWith(url, (nonce) =>
      operatorParams({
        scopes: SCOPES,
        auth: { token: "a-wrong-token-0123456789" },
        device: forgedBlock(nonce, "a-wrong-token-0123456789"),
      }),
    );
    expect(wrongToken.details.code).toMatch(/^DEVICE_AUTH_/);
    const rightToken = await refusedWith(url, (nonce) =>
      operatorParams({ scopes: SCOPES, auth: { token: TOKEN }, device: forgedBlock(nonce, TOKEN) }),
    );
    expect(rightToken.details.code).toBe("DEVICE_AUTH_SIGNATURE_INVALID");
    // and a device token alone with a forged signature
    const deviceToken = await refusedWith(url, (nonce) =>
      operatorParams({
        scopes: SCOPES,
        auth: { deviceToken: "x".repeat(43) },
        device: forgedBlock(nonce, "x".repeat(43)),
      }),
    );
    expect(deviceToken.details.code).toBe("DEVICE_AUTH_SIGNATURE_INVALID");
  });

  it("GHSA-m8wm-r5vq-qjpg: a rotated or revoked device token stops working at once, open connections included", async () => {
    const gateway = await startGateway();
    const identity = await loadDeviceIdentity(createMemoryKeyStore());
    const first = createGatewayClient({
      url: gateway.url,
      token: TOKEN,
      device: identity,
      reconnect: false,
      scopes: SCOPES,
    });
    const hello = await first.ready();
    const oldToken = hello.auth.deviceToken!;
    const operator = await gateway.client({ scopes: ["operator.pairing"] });
    await operator.request("device.token.rotate", { deviceId: identity.deviceId, role: "operator" });
    await eventually(() => expect(first.state).toBe("closed"));
    const withOld = createGatewayClient({
      url: gateway.url,
      deviceToken: oldToken,
      device: identity,
      reconnect: false,
      scopes: SCOPES,
    });
    await expect(withOld.ready()).rejects.toMatchObject({ detailCode: "AUTH_DEVICE_TOKEN_MISMATCH" });

    const again = createGatewayClient({
      url: gateway.url,
      token: TOKEN,
      device: identity,
      reconnect: false,
      scopes: SCOPES,
    });
    const current = (await again.ready()).auth.deviceToken!;
    await operator.request("device.token.revoke", { deviceId: identity.deviceId, role: "operator" });
    await eventually(() => expect(again.state).toBe("closed"));
    const withRevoked = createGatewayClient({
      url: gateway.url,
      deviceToken: current,
      device: identity,
      reconnect: false,
      scopes: SCOPES,
    });
    await expect(withRevoked.ready()).rejects.toMatchObject({ detailCode: "AUTH_DEVICE_TOKEN_MISMATCH" });
    // a device token is bound to its device: another device cannot use it
    const other = await loadDeviceIdentity(createMemoryKeyStore());
    const stolen = createGatewayClient({
      url: gateway.url,
      deviceToken: current,
      device: other,
      reconnect: false,
      scopes: SCOPES,
    });
    await expect(stolen.ready()).rejects.toMatchObject({ detailCode: "AUTH_DEVICE_TOKEN_MISMATCH" });
    for (const client of [first, withOld, again, withRevoked, stolen]) client.close();
  });
});
