// Device identity and pairing end to end: our client with a WebCrypto device identity against a listening gateway,
// an operator approving it, device tokens on reconnect, rotation and revocation closing open connections.
import { statSync } from "node:fs";
import { join } from "node:path";
import { createMemoryKeyStore, loadDeviceIdentity } from "@gateway/client";
import { eventually } from "@gateway/vitest-preset/wait";
import { afterEach, describe, expect, it } from "vitest";
import { openClient, refusal, startGateway, stopAll, TOKEN } from "./harness.js";

afterEach(stopAll);

const open = openClient;

describe("device pairing", () => {
  it("pending → approved by an operator → a device token that alone reconnects, within the approved scopes", async () => {
    const gateway = await startGateway({ gateway: { pairing: { autoApproveLoopback: false } } });
    const operator = await gateway.client({ scopes: ["operator.pairing"] });
    const requested: unknown[] = [];
    operator.on("device.pair.requested", (event) => requested.push(event));
    const resolved: unknown[] = [];
    operator.on("device.pair.resolved", (event) => resolved.push(event));

    const device = await loadDeviceIdentity(createMemoryKeyStore());
    const scopes = ["operator.read", "operator.write"];
    const first = await refusal(open({ url: gateway.url, token: TOKEN, device, scopes }));
    expect(first.detailCode).toBe("PAIRING_REQUIRED");
    const details = first.details as { requestId: string; reason: string };
    expect(details.reason).toBe("not-paired");
    await eventually(() =>
      expect(requested).toEqual([
        expect.objectContaining({ requestId: details.requestId, deviceId: device.deviceId, scopes }),
      ]),
    );
    const list = await operator.request("device.pair.list");
    expect(list.pending.map((request) => request.requestId)).toEqual([details.requestId]);

    expect(await operator.request("device.pair.approve", { requestId: details.requestId })).toMatchObject({
      deviceId: device.deviceId,
      decision: "approved",
    });
    await eventually(() => expect(resolved).toHaveLength(1));

    const paired = open({ url: gateway.url, token: TOKEN, device, scopes: [...scopes, "operator.admin"] });
    // asking for more than approved is a scope upgrade, pending again
    expect((await refusal(paired)).details).toMatchObject({ reason: "scope-upgrade" });

    const withToken = open({ url: gateway.url, token: TOKEN, device, scopes });
    const hello = await withToken.ready();
    expect(hello.auth).toMatchObject({ role: "operator", scopes });
    expect(hello.auth.deviceToken).toEqual(expect.any(String));
    await eventually(() => expect(device.token("operator")?.token).toBe(hello.auth.deviceToken));

    // the device token alone (no shared token) reconnects, bounded by the approval
    const tokenOnly = open({ url: gateway.url, device, scopes: ["operator.read"] });
    const again = await tokenOnly.ready();
    expect(again.auth.scopes).toEqual(["operator.read"]);
    expect(again.auth.deviceToken).toBeUndefined();

    // the store keeps hashes only, private
    const storePath = join(gateway.stateDir, "devices", "devices.json");
    expect(statSync(storePath).mode & 0o777).toBe(0o600);

    // rotation closes the device's open connections and the old token stops working
    const rotated = await operator.request("device.token.rotate", { deviceId: device.deviceId, role: "operator" });
    expect(rotated.token).not.toBe(hello.auth.deviceToken);
    await eventually(() => expect(tokenOnly.state).toBe("closed"));
    await eventually(() => expect(withToken.state).toBe("closed"));
    const stale = open({ url: gateway.url, deviceToken: hello.auth.deviceToken!, device, scopes: ["operator.read"] });
    expect((await refusal(stale)).detailCode).toBe("AUTH_DEVICE_TOKEN_MISMATCH");
    const fresh = open({ url: gateway.url, deviceToken: rotated.token, device, scopes: ["operator.read"] });
    await fresh.ready();

    // revocation: the same
    await operator.request("device.token.revoke", { deviceId: device.deviceId, role: "operator" });
    await eventually(() => expect(fresh.state).toBe("closed"));
    const revoked = open({ url: gateway.url, deviceToken: rotated.token, device, scopes: ["operator.read"] });
    expect((await refusal(revoked)).detailCode).toBe("AUTH_DEVICE_TOKEN_MISMATCH");

    // removal forgets the device: pairing is required again
    expect(await operator.request("device.pair.remove", { deviceId: device.deviceId })).toMatchObject({
      removed: true,
    });
    const forgotten = open({ url: gateway.url, token: TOKEN, device, scopes });
    expect((await refusal(forgotten)).details).toMatchObject({ reason: "not-paired" });
  });

  it("a paired device whose platform changed must be re-approved (metadata-upgrade)", async () => {
    const gateway = await startGateway({ gateway: { pairing: { autoApproveLoopback: false } } });
    const operator = await gateway.client({ scopes: ["operator.pairing"] });
    const device = await loadDeviceIdentity(createMemoryKeyStore());
    const asked = (platform: string) =>
      open({ url: gateway.url, token: TOKEN, device, scopes: ["operator.read"], client: { platform } });
    const first = await refusal(asked("linux"));
    await operator.request("device.pair.approve", { requestId: (first.details as { requestId: string }).requestId });
    await asked("Linux ").ready(); // the same platform, as signed: trimmed and lower-cased
    const moved = await refusal(asked("darwin"));
    expect(moved.details).toMatchObject({ code: "PAIRING_REQUIRED", reason: "metadata-upgrade" });
  });

  it("a rejected request leaves the device unpaired", async () => {
    const gateway = await startGateway({ gateway: { pairing: { autoApproveLoopback: false } } });
    const operator = await gateway.client({ scopes: ["operator.pairing"] });
    const device = await loadDeviceIdentity(createMemoryKeyStore());
    const first = await refusal(open({ url: gateway.url, token: TOKEN, device, scopes: ["operator.read"] }));
    const { requestId } = first.details as { requestId: string };
    expect(await operator.request("device.pair.reject", { requestId })).toMatchObject({ decision: "rejected" });
    await expect(operator.request("device.pair.approve", { requestId })).rejects.toThrow(/no pending device request/);
    const again = await refusal(open({ url: gateway.url, token: TOKEN, device, scopes: ["operator.read"] }));
    expect((again.details as { requestId: string }).requestId).not.toBe(requestId);
  });

  it("direct loopback connections are paired silently (the default), and get a device token at once", async () => {
    const gateway = await startGateway();
    const device = await loadDeviceIdentity(createMemoryKeyStore());
    const client = open({ url: gateway.url, token: TOKEN, device, scopes: ["operator.read"] });
    const hello = await client.ready();
    expect(hello.auth.deviceToken).toEqual(expect.any(String));
    const operator = await gateway.client({ scopes: ["operator.pairing"] });
    const { paired } = await operator.request("device.pair.list");
    expect(paired).toEqual([
      expect.objectContaining({ deviceId: device.deviceId, roles: ["operator"], scopes: ["operator.read"] }),
    ]);
    expect(JSON.stringify(paired)).not.toContain(hello.auth.deviceToken);
  });

  it("device methods need operator.pairing", async () => {
    const gateway = await startGateway();
    const reader = await gateway.client({ scopes: ["operator.read"] });
    await expect(reader.request("device.pair.list")).rejects.toMatchObject({ code: "FORBIDDEN" });
  });
});
