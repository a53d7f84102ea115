// Two gateways on one Redis (fleet.enabled), each with its own state dir: a device asks on A and is approved on B,
// then connects on B with its device token; a token revoked or rotated on one instance closes the device's
// connections on the other within a second, and the old token is refused everywhere.

import { rmSync } from "node:fs";
import { createMemoryKeyStore, type GatewayClient, loadDeviceIdentity } from "@gateway/client";
// @ts-expect-error -- a plain .mjs helper of the private vitest preset
import { hasRedisServer, startRedisServer } from "@gateway/vitest-preset/redis";
import { checkAvailable, eventually, until } from "@gateway/vitest-preset/wait";
import { afterEach, describe, expect, it, onTestFinished } from "vitest";
import { fleetInstance, fleetPrefix, redisAvailable } from "./fleet-harness.js";
import { openClient, refusal, stopAll, TOKEN } from "./harness.js";

afterEach(stopAll);

const open = openClient;

const closedWithin = async (client: GatewayClient, started: number): Promise<number> => {
  await until(() => client.state === "closed", { timeoutMs: 3_000, message: "the connection to close" });
  return Date.now() - started;
};

describe("devices across a fleet", () => {
  it("asked on A, approved on B, token from A works on B; revoked on A closes B's connection within 1 s", async (context) => {
    if (!redisAvailable()) return context.skip();
    const keyPrefix = fleetPrefix();
    const a = await fleetInstance("a", keyPrefix);
    const b = await fleetInstance("b", keyPrefix);
    const operatorB = await b.client({ scopes: ["operator.pairing"] });
    const operatorA = await a.client({ scopes: ["operator.pairing"] });

    const device = await loadDeviceIdentity(createMemoryKeyStore());
    const scopes = ["operator.read", "operator.write"];
    const first = await refusal(open({ url: a.url, token: TOKEN, device, scopes }));
    expect(first.detailCode).toBe("PAIRING_REQUIRED");
    const { requestId } = first.details as { requestId: string };

    // The request made on A is listed and approved on B.
    await eventually(async () =>
      expect((await operatorB.request("device.pair.list")).pending.map((request) => request.requestId)).toEqual([
        requestId,
      ]),
    );
    expect(await operatorB.request("device.pair.approve", { requestId })).toMatchObject({ decision: "approved" });

    // Approved on B: A lets it in at once and hands it a device token …
    const onA = open({ url: a.url, token: TOKEN, device, scopes });
    const hello = await onA.ready();
    expect(hello.auth.deviceToken).toEqual(expect.any(String));
    // … which alone connects on B.
    const onB = open({ url: b.url, deviceToken: hello.auth.deviceToken!, device, scopes: ["operator.read"] });
    expect((await onB.ready()).auth.scopes).toEqual(["operator.read"]);
    expect((await operatorA.request("device.pair.list")).paired.map((paired) => paired.deviceId)).toEqual([
      device.deviceId,
    ]);

    // Revoked on A: B closes the connection it authenticated with that token.
    const revokedAt = Date.now();
    await operatorA.request("device.token.revoke", { deviceId: device.deviceId, role: "operator" });
    const revokeMs = await closedWithin(onB, revokedAt);
    expect(revokeMs).toBeLessThan(1_000);
    const stale = open({ url: b.url, deviceToken: hello.auth.deviceToken!, device, scopes: ["operator.read"] });
    expect((await refusal(stale)).detailCode).toBe("AUTH_DEVICE_TOKEN_MISMATCH");

    // Rotated on B: A's connections of the device close, the old token is refused on A, the new one works there.
    const again = open({ url: a.url, token: TOKEN, device, scopes });
    const second = await again.ready();
    const rotatedAt = Date.now();
    const rotated = await operatorB.request("device.token.rotate", { deviceId: device.deviceId, role: "operator" });
    const rotateMs = await closedWithin(again, rotatedAt);
    expect(rotateMs).toBeLessThan(1_000);
    const old = open({ url: a.url, deviceToken: second.auth.deviceToken!, device, scopes: ["operator.read"] });
    expect((await refusal(old)).detailCode).toBe("AUTH_DEVICE_TOKEN_MISMATCH");
    const fresh = open({ url: a.url, deviceToken: rotated.token, device, scopes: ["operator.read"] });
    await fresh.ready();

    // Removed on B: A closes it, and it must pair again anywhere.
    await operatorB.request("device.pair.remove", { deviceId: device.deviceId });
    await until(() => fresh.state === "closed", { timeoutMs: 1_000, message: "A to close the removed device" });
    expect((await refusal(open({ url: a.url, token: TOKEN, device, scopes }))).details).toMatchObject({
      reason: "not-paired",
    });
    console.log(`fleet devices: revoked on A, B closed in ${revokeMs} ms; rotated on B, A closed in ${rotateMs} ms`);
  });

  it("the same device approved on both instances at once, its tokens issued on both: nothing is lost", async (context) => {
    if (!redisAvailable()) return context.skip();
    const keyPrefix = fleetPrefix();
    const a = await fleetInstance("a", keyPrefix);
    const b = await fleetInstance("b", keyPrefix);
    const operatorA = await a.client({ scopes: ["operator.pairing"] });
    const operatorB = await b.client({ scopes: ["operator.pairing"] });
    const devices = await Promise.all(Array.from({ length: 6 }, () => loadDeviceIdentity(createMemoryKeyStore())));
    // Six devices ask, half on each instance, at once.
    const refusals = await Promise.all(
      devices.map((device, index) =>
        refusal(open({ url: (index % 2 ? b : a).url, token: TOKEN, device, scopes: ["operator.read"] })),
      ),
    );
    const requestIds = refusals.map((refused) => (refused.details as { requestId: string }).requestId);
    await eventually(async () =>
      expect((await operatorA.request("device.pair.list")).pending).toHaveLength(devices.length),
    );
    // Both operators approve every request at the same moment: each is approved once, the other told it is gone.
    const outcomes = await Promise.allSettled(
      requestIds.flatMap((requestId) => [
        operatorA.request("device.pair.approve", { requestId }),
        operatorB.request("device.pair.approve", { requestId }),
      ]),
    );
    expect(outcomes.filter((outcome) => outcome.status === "fulfilled")).toHaveLength(devices.length);
    // Every device connects on both instances at once (two tokens issued per device, one per connect).
    const hellos = await Promise.all(
      devices.flatMap((device) =>
        [a, b].map((instance) => open({ url: instance.url, token: TOKEN, device, scopes: ["operator.read"] }).ready()),
      ),
    );
    expect(hellos.every((hello) => hello.auth.deviceToken)).toBe(true);
    await eventually(async () => {
      const [listA, listB] = await Promise.all([
        operatorA.request("device.pair.list"),
        operatorB.request("device.pair.list"),
      ]);
      expect(listA.paired).toHaveLength(devices.length);
      expect(listB.paired.map((paired) => paired.deviceId).sort()).toEqual(
        listA.paired.map((paired) => paired.deviceId).sort(),
      );
      expect(listA.pending).toEqual([]);
    });
  });
});

describe("devices when an instance loses Redis", () => {
  it("no device is let in while the store cannot follow the fleet; open connections stay; back with Redis", async (context) => {
    if (!checkAvailable(hasRedisServer(), "redis-server (for an outage of its own)")) return context.skip();
    const server = await startRedisServer();
    let restarted: { stop(): Promise<void> } | undefined;
    let killed = false;
    onTestFinished(async () => {
      await stopAll();
      if (!killed) await server.kill();
      await restarted?.stop();
      rmSync(server.dir, { recursive: true, force: true });
    });
    const keyPrefix = fleetPrefix();
    const a = await fleetInstance("a", keyPrefix, {
      redis: { url: server.url, keyPrefix: `${keyPrefix}bridge:` },
      gateway: { pairing: { autoApproveLoopback: true } },
    });
    const device = await loadDeviceIdentity(createMemoryKeyStore());
    const open1 = open({ url: a.url, token: TOKEN, device, scopes: ["operator.read"] });
    const hello = await open1.ready(); // paired silently over loopback
    expect(hello.auth.deviceToken).toEqual(expect.any(String));

    await server.kill();
    killed = true;
    await until(() => a.gateway.devices.store.staleness() !== undefined, { message: "a to notice" });
    const refused = await refusal(
      open({ url: a.url, deviceToken: hello.auth.deviceToken!, device, scopes: ["operator.read"] }),
    );
    expect(refused.code).toBe("UNAVAILABLE");
    expect(refused.retryable).toBe(true);
    expect(refused.message).toMatch(/devices cannot connect to this instance right now \(lost the fleet's Redis/);
    // Without a device, and the connection already open: served.
    await (await a.client()).request("health", {});
    expect(open1.state).toBe("open");

    restarted = await startRedisServer({ port: server.port, dir: server.dir });
    await until(() => a.gateway.devices.store.staleness() === undefined, {
      timeoutMs: 10_000,
      message: "a to read the devices again",
    });
    await open({ url: a.url, deviceToken: hello.auth.deviceToken!, device, scopes: ["operator.read"] }).ready();
  });
});
