// Gateway processes on one Redis with the same config file (each its id from GATEWAY_FLEET_INSTANCE_ID): a device
// asks on A and is approved on B; A lets it in and hands it a token that connects on B; a token revoked on A closes
// B's connection within a second; after kill -9 of A, an instance started later knows the device.
import { randomUUID } from "node:crypto";
import { existsSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import {
  createGatewayClient,
  createMemoryKeyStore,
  type GatewayClient,
  GatewayClientError,
  loadDeviceIdentity,
} from "@gateway/client";
// @ts-expect-error -- a plain .mjs helper of the private vitest preset
import { useRedis } from "@gateway/vitest-preset/redis";
import { checkAvailable, eventually, until } from "@gateway/vitest-preset/wait";
import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type GatewayProcess, main, onCleanup, startGateway, tempDir } from "./support/gateway-process.js";

const TOKEN = "fleet-devices-e2e-token-0123456789";
const prefix = `gateway-test-fleet-devices-e2e-${randomUUID().slice(0, 8)}:`;
let redisHandle: { url: string; stop(): Promise<void> } | undefined;
beforeAll(async () => {
  redisHandle = await useRedis();
});
afterAll(async () => {
  if (!redisHandle) return;
  const redis = new Redis(redisHandle.url);
  for (const key of await redis.keys(`${prefix}*`)) await redis.del(key);
  redis.disconnect();
  await redisHandle.stop();
});

/** An instance: its own state dir, the same config file as the others. */
async function instance(id: string): Promise<GatewayProcess & { url: string }> {
  const stateDir = tempDir(`gateway-fleet-devices-${id}-`);
  writeFileSync(
    join(stateDir, "gateway.json5"),
    `{
      gateway: { auth: { mode: "token", token: "${TOKEN}" }, pairing: { autoApproveLoopback: false } },
      redis: { url: "${redisHandle!.url}", keyPrefix: "${prefix}bridge:" },
      fleet: { enabled: true, leaseMs: 2000, keyPrefix: "${prefix}" },
    }`,
  );
  const gateway = await startGateway(stateDir, { GATEWAY_TOKEN: TOKEN, GATEWAY_FLEET_INSTANCE_ID: id });
  await until(() => gateway.output().includes("fleet: devices shared through Redis"), {
    message: `${id} to read the fleet's devices`,
  });
  return { ...gateway, url: `ws://127.0.0.1:${gateway.port}` };
}

function open(options: Parameters<typeof createGatewayClient>[0]): GatewayClient {
  const client = createGatewayClient({ reconnect: false, client: { id: "fleet-device", mode: "test" }, ...options });
  onCleanup(() => client.close());
  return client;
}

async function refusal(client: GatewayClient): Promise<GatewayClientError> {
  const error = await client.ready().then(
    () => undefined,
    (reason: unknown) => reason,
  );
  if (!GatewayClientError.isInstance(error)) throw new Error(`expected a refusal, got ${String(error)}`);
  return error;
}

describe("devices across gateway processes", () => {
  it("approved on B, token from A connects on B, revoked on A closes B within 1 s; known to a later instance after kill -9", async (context) => {
    if (!checkAvailable(redisHandle !== undefined, "Redis (REDIS_URL, 127.0.0.1:6379 or redis-server)"))
      return context.skip();
    if (!existsSync(main)) throw new Error("build the app first: npx turbo run build --filter=gateway");
    const a = await instance("a");
    const b = await instance("b");
    const operatorA = open({ url: a.url, token: TOKEN });
    const operatorB = open({ url: b.url, token: TOKEN });
    await Promise.all([operatorA.ready(), operatorB.ready()]);

    const device = await loadDeviceIdentity(createMemoryKeyStore());
    const scopes = ["operator.read"];
    const { requestId } = (await refusal(open({ url: a.url, token: TOKEN, device, scopes }))).details as {
      requestId: string;
    };
    await operatorB.request("device.pair.approve", { requestId });
    const hello = await open({ url: a.url, token: TOKEN, device, scopes }).ready();
    const onB = open({ url: b.url, deviceToken: hello.auth.deviceToken!, device, scopes });
    await onB.ready();

    const revokedAt = Date.now();
    await operatorA.request("device.token.revoke", { deviceId: device.deviceId, role: "operator" });
    await until(() => onB.state === "closed", { timeoutMs: 1_000, message: "b to close the revoked device" });
    const closedMs = Date.now() - revokedAt;

    // Approved again (a shared-token connect on b issues a new token), then a dies without a word.
    const again = await open({ url: b.url, token: TOKEN, device, scopes }).ready();
    a.child.kill("SIGKILL");
    await a.exited;
    const c = await instance("c");
    await open({ url: c.url, deviceToken: again.auth.deviceToken!, device, scopes }).ready();
    await eventually(async () => {
      const operatorC = open({ url: c.url, token: TOKEN });
      const list = await operatorC.request("device.pair.list");
      expect(list.paired.map((paired) => paired.deviceId)).toEqual([device.deviceId]);
    });
    console.log(`fleet devices (processes): revoked on a, b closed the connection in ${closedMs} ms`);
  });
});
