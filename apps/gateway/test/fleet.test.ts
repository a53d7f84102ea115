// Two gateway processes on one Redis with the same Telegram bot (the fake Bot API, the real grammY): the account runs
// on exactly one of them; kill -9 the owner while messages arrive and the other takes over within the lease, every
// message answered exactly once; a clean stop hands the account over at once.
import { randomUUID } from "node:crypto";
import { existsSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { type FakeTelegram, startFakeTelegram } from "@gateway/fakes";
// @ts-expect-error -- a plain .mjs helper of the private vitest preset
import { useRedis } from "@gateway/vitest-preset/redis";
import { checkAvailable, until } from "@gateway/vitest-preset/wait";
import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { cli, type GatewayProcess, main, onCleanup, startGateway, tempDir } from "./support/gateway-process.js";

const TOKEN = "fleet-e2e-token-0123456789";
const LEASE_MS = 2_000;
const prefix = `gateway-test-fleet-e2e-${randomUUID().slice(0, 8)}:`;
let redisHandle: { url: string; stop(): Promise<void> } | undefined;
let fake: FakeTelegram;
let botToken: string;

beforeAll(async () => {
  redisHandle = await useRedis();
  fake = await startFakeTelegram();
  botToken = fake.addBot("gw_fleet_bot");
});
afterAll(async () => {
  await fake?.close();
  if (redisHandle) {
    const redis = new Redis(redisHandle.url);
    for (const key of await redis.keys(`${prefix}*`)) await redis.del(key);
    redis.disconnect();
    await redisHandle.stop();
  }
});

/** An instance of the fleet in its own state dir, with the same channel config as the others. */
async function instance(id: string): Promise<{ id: string; stateDir: string; gateway: GatewayProcess }> {
  const stateDir = tempDir(`gateway-fleet-${id}-`);
  writeFileSync(
    join(stateDir, "gateway.json5"),
    `{
      gateway: { auth: { mode: "token", token: "${TOKEN}" } },
      redis: { url: "${redisHandle!.url}", keyPrefix: "${prefix}bridge:" },
      fleet: { enabled: true, instanceId: "${id}", leaseMs: ${LEASE_MS}, keyPrefix: "${prefix}" },
      channels: {
        telegram: {
          apiRoot: "${fake.apiRoot}", pollTimeoutSeconds: 1, debounceMs: 0,
          dmPolicy: "open", allowFrom: ["*"],
          accounts: { default: { botToken: "${botToken}" } },
        },
      },
    }`,
  );
  const gateway = await startGateway(stateDir, { GATEWAY_TOKEN: TOKEN });
  return { id, stateDir, gateway };
}

async function accountState(stateDir: string): Promise<string | undefined> {
  const result = await cli(stateDir, ["channels", "status", "--json"], { GATEWAY_TOKEN: TOKEN });
  if (result.code !== 0 && !result.stdout.startsWith("{")) return undefined;
  return JSON.parse(result.stdout).channelAccounts.telegram[0].healthState;
}

const grace = { id: 7001, is_bot: false, first_name: "Grace" };
const repliesTo = (text: string) => fake.sent(botToken).filter((message) => String(message.text ?? "").includes(text));

describe("a fleet of two gateways on one Redis", () => {
  it("one owner per account; kill -9 of the owner: the other takes over within the lease, each message answered once", async (context) => {
    if (!checkAvailable(redisHandle !== undefined, "Redis (REDIS_URL, 127.0.0.1:6379 or redis-server)"))
      return context.skip();
    if (!existsSync(main)) throw new Error("build the app first: npx turbo run build --filter=gateway");
    const a = await instance("a");
    await until(async () => (await accountState(a.stateDir)) === "connected", {
      timeoutMs: 15_000,
      message: "a to run the account",
    });
    const b = await instance("b");
    await until(async () => (await accountState(b.stateDir)) === "standby", {
      timeoutMs: 15_000,
      message: "b to stand by",
    });

    const fleet = JSON.parse((await cli(b.stateDir, ["status", "--fleet", "--json"], { GATEWAY_TOKEN: TOKEN })).stdout);
    expect(fleet.self).toBe("b");
    // a, started first, also runs the fleet's scheduler (the `cron` lease).
    expect(fleet.members.map((member: { id: string; owns: string[] }) => [member.id, member.owns.sort()])).toEqual([
      ["a", ["channel:telegram:default", "cron"]],
      ["b", []],
    ]);

    await fake.inject(botToken, { chat: { id: 7001, type: "private" }, from: grace, text: "first message" });
    await until(() => repliesTo("first message").length === 1, { message: "the reply from a" });

    // The owner dies without a word; a message arrives while nobody runs the account.
    a.gateway.child.kill("SIGKILL");
    await a.gateway.exited;
    const killedAt = Date.now();
    await fake.inject(botToken, { chat: { id: 7001, type: "private" }, from: grace, text: "while nobody owns it" });
    await until(async () => (await accountState(b.stateDir)) === "connected", {
      timeoutMs: LEASE_MS * 4,
      message: "b to take the account over",
    });
    const failoverMs = Date.now() - killedAt;
    expect(failoverMs).toBeLessThan(LEASE_MS + 2_000);
    await until(() => repliesTo("while nobody owns it").length === 1, { message: "b to answer what came meanwhile" });
    await fake.inject(botToken, { chat: { id: 7001, type: "private" }, from: grace, text: "after the takeover" });
    await until(() => repliesTo("after the takeover").length === 1, { message: "b to answer" });
    expect(repliesTo("first message")).toHaveLength(1);
    console.log(`fleet failover after kill -9: ${failoverMs} ms (lease ${LEASE_MS} ms)`);

    // A clean stop hands the account over at once: a new instance stands by, b stops, the new one runs it.
    const c = await instance("c");
    await until(async () => (await accountState(c.stateDir)) === "standby", { message: "c to stand by" });
    const stoppedAt = Date.now();
    await b.gateway.stop();
    await until(async () => (await accountState(c.stateDir)) === "connected", {
      timeoutMs: LEASE_MS,
      message: "c to run the account at once",
    });
    const handoverMs = Date.now() - stoppedAt;
    await fake.inject(botToken, { chat: { id: 7001, type: "private" }, from: grace, text: "to the third one" });
    await until(() => repliesTo("to the third one").length === 1, { message: "c to answer" });
    console.log(`fleet handover on a clean stop: ${handoverMs} ms`);
    for (const text of ["first message", "while nobody owns it", "after the takeover", "to the third one"])
      expect(repliesTo(text), text).toHaveLength(1);
    onCleanup(() => c.gateway.stop());
  }, 90_000);
});
