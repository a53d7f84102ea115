// Two gateway processes on one Redis with the same Telegram bot (the fake Bot API, the real grammY): the account runs
// on exactly one of them; kill -9 the owner while messages arrive and the other takes over within the lease, every
// message answered exactly once; a clean stop hands the account over at once. The same Slack app (the fake Slack, the
// real Bolt) runs active–active: a socket on each instance, every event answered once, a killed instance's share
// answered by the other.
import { randomUUID } from "node:crypto";
import { existsSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import {
  type FakeSlack,
  type FakeSlackApp,
  type FakeTelegram,
  startFakeSlack,
  startFakeTelegram,
} from "@gateway/fakes";
// @ts-expect-error -- a plain .mjs helper of the private vitest preset
import { hasRedisServer, startRedisServer, useRedis } from "@gateway/vitest-preset/redis";
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
let slack: FakeSlack;
let slackApp: FakeSlackApp;

beforeAll(async () => {
  redisHandle = await useRedis();
  fake = await startFakeTelegram();
  botToken = fake.addBot("gw_fleet_bot");
  slack = await startFakeSlack({ pingIntervalMs: 300, ackTimeoutMs: 800 });
  slackApp = slack.addApp({ botName: "gw_fleet_slack", teamName: "Acme" });
});
afterAll(async () => {
  await fake?.close();
  await slack?.close();
  if (redisHandle) {
    const redis = new Redis(redisHandle.url);
    for (const key of await redis.keys(`${prefix}*`)) await redis.del(key);
    redis.disconnect();
    await redisHandle.stop();
  }
});

const telegramChannels = (token = botToken) => `{
  telegram: {
    apiRoot: "${fake.apiRoot}", pollTimeoutSeconds: 1, debounceMs: 0,
    dmPolicy: "open", allowFrom: ["*"],
    accounts: { default: { botToken: "${token}" } },
  },
}`;

/** An instance of the fleet in its own state dir, with the same channel config as the others. */
async function instance(
  id: string,
  channels = telegramChannels(),
  redisUrl = redisHandle!.url,
): Promise<{ id: string; stateDir: string; gateway: GatewayProcess }> {
  const stateDir = tempDir(`gateway-fleet-${id}-`);
  writeFileSync(
    join(stateDir, "gateway.json5"),
    `{
      gateway: { auth: { mode: "token", token: "${TOKEN}" } },
      redis: { url: "${redisUrl}", keyPrefix: "${prefix}bridge:" },
      fleet: { enabled: true, instanceId: "${id}", leaseMs: ${LEASE_MS}, keyPrefix: "${prefix}" },
      channels: ${channels},
    }`,
  );
  const gateway = await startGateway(stateDir, { GATEWAY_TOKEN: TOKEN });
  return { id, stateDir, gateway };
}

async function accountState(stateDir: string, channel = "telegram"): Promise<string | undefined> {
  const result = await cli(stateDir, ["channels", "status", "--json"], { GATEWAY_TOKEN: TOKEN });
  if (result.code !== 0 && !result.stdout.startsWith("{")) return undefined;
  return JSON.parse(result.stdout).channelAccounts[channel][0].healthState;
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
    const summary = await cli(a.stateDir, ["status"], { GATEWAY_TOKEN: TOKEN });
    expect(summary.stdout).toMatch(/^fleet\s+instance a with b; runs (telegram:default, cron|cron, telegram:default)/m);

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
    // A send on the instance that stands by goes out through the one that runs the account.
    const forwarded = await cli(c.stateDir, ["send", "--channel", "telegram", "--to", "7001", "sent from c"], {
      GATEWAY_TOKEN: TOKEN,
    });
    expect(forwarded.stderr).toBe("");
    expect(forwarded.code).toBe(0);
    expect(repliesTo("sent from c")).toHaveLength(1);
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

describe("a fleet through a Redis restart", () => {
  it("started at the same instant: one owner; Redis gone: the owner stops within its lease while clients are served; back: one owner, every message answered once", async (context) => {
    if (!checkAvailable(hasRedisServer(), "redis-server (a Redis of the test's own, to restart it)"))
      return context.skip();
    if (!existsSync(main)) throw new Error("build the app first: npx turbo run build --filter=gateway");
    const dir = tempDir("gateway-fleet-redis-");
    let redis = await startRedisServer({ dir });
    onCleanup(() => redis.stop()); // after the gateways (cleanups run in reverse)
    const token = fake.addBot("gw_fleet_restart_bot");
    const replies = (text: string) =>
      fake.sent(token).filter((message) => String(message.text ?? "").includes(text)).length;
    const say = (text: string) => fake.inject(token, { chat: { id: 7001, type: "private" }, from: grace, text });
    const pair = await Promise.all(["r-a", "r-b"].map((id) => instance(id, telegramChannels(token), redis.url)));
    const states = () => Promise.all(pair.map((side) => accountState(side.stateDir)));
    await until(async () => (await states()).sort().join() === "connected,standby", {
      timeoutMs: 15_000,
      message: "exactly one of two instances started together to run the account",
    });
    await say("before the outage");
    await until(() => replies("before the outage") === 1, { message: "the owner's reply" });

    // Redis dies: nobody can know it is still the only owner, so the owner stops the account within its lease —
    // and both instances keep answering their clients.
    await redis.kill();
    await until(async () => !(await states()).includes("connected"), {
      timeoutMs: LEASE_MS * 3,
      message: "the owner to stop the account once its lease may have passed",
    });
    for (const side of pair)
      expect((await cli(side.stateDir, ["health", "--json"], { GATEWAY_TOKEN: TOKEN })).code).toBe(0);
    const refused = await cli(pair[0]!.stateDir, ["send", "--channel", "telegram", "--to", "7001", "no one runs it"], {
      GATEWAY_TOKEN: TOKEN,
    });
    expect(refused.code).not.toBe(0);
    expect(refused.stderr).toMatch(/telegram:default/);
    await say("during the outage");

    // Redis is back (its data kept): one instance takes the lease again and answers what waited, once.
    redis = await startRedisServer({ port: redis.port, dir });
    await until(async () => (await states()).sort().join() === "connected,standby", {
      timeoutMs: 20_000,
      message: "one owner again after Redis came back",
    });
    await until(() => replies("during the outage") === 1, { message: "what waited to be answered" });
    await say("after the outage");
    await until(() => replies("after the outage") === 1, { message: "the reply after the outage" });
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    for (const text of ["before the outage", "during the outage", "after the outage"])
      expect(replies(text), text).toBe(1);
  }, 90_000);
});

describe("Slack active–active in a fleet", () => {
  const DM = "D0FLEET";
  const ROOM = "C0FLEET";
  const slackChannels = () => `{
    slack: {
      apiUrl: "${slack.apiUrl}", debounceMs: 0, dmPolicy: "open", allowFrom: ["*"], groups: { "${ROOM}": {} },
      socket: { clientPingTimeoutMs: 300, serverPingTimeoutMs: 5000, silenceMs: 1500, helloTimeoutMs: 3000 },
      accounts: { default: { botToken: "${slackApp.botToken}", appToken: "${slackApp.appToken}" } },
    },
  }`;
  const answers = (text: string) =>
    slack.sentTo(DM).filter((message) => String(message.text ?? "").includes(text)).length;

  it("a socket on each instance; every event answered once; a killed instance's share is answered by the other", async (context) => {
    if (!checkAvailable(redisHandle !== undefined, "Redis (REDIS_URL, 127.0.0.1:6379 or redis-server)"))
      return context.skip();
    if (!existsSync(main)) throw new Error("build the app first: npx turbo run build --filter=gateway");
    const grace = slack.addUser({ name: "grace", real_name: "Grace Hopper" });
    slack.addChannel({ id: DM, type: "im" });
    slack.addChannel({ id: ROOM, name: "fleet", type: "channel" });
    const [a, b] = await Promise.all([instance("slack-a", slackChannels()), instance("slack-b", slackChannels())]);
    onCleanup(() => b.gateway.stop());
    await slack.until(() => slack.openSockets(slackApp) === 2, 15_000);
    for (const side of [a, b])
      await until(async () => (await accountState(side.stateDir, "slack")) === "connected", {
        message: `${side.id} to run the Slack account too`,
      });

    // Slack spreads the events over both sockets: each is answered by exactly one instance.
    const before = Array.from({ length: 8 }, (_, index) => `spread message ${index}`);
    for (const text of before) await slack.inject(slackApp, { channel: DM, user: grace.id, text });
    await until(() => before.every((text) => answers(text) >= 1), { message: "every message answered" });
    const perSocket = slack.deliveries
      .filter((delivery) => delivery.appId === slackApp.appId && delivery.ackedBy !== undefined)
      .map((delivery) => delivery.ackedBy);
    expect(new Set(perSocket).size).toBe(2);
    // A mention is two events (message and app_mention), often on different instances: one answer between them.
    for (let index = 0; index < 4; index++)
      await slack.inject(
        slackApp,
        { channel: ROOM, user: grace.id, text: `<@${slackApp.botUserId}> mention ${index}` },
        { mention: true },
      );
    await until(() => slack.sentTo(ROOM).length >= 4, { message: "every mention answered" });

    // One instance dies: what Slack sends to its dead socket is retried on the other, and answered once.
    a.gateway.child.kill("SIGKILL");
    await a.gateway.exited;
    const after = Array.from({ length: 4 }, (_, index) => `after the kill ${index}`);
    for (const text of after) await slack.inject(slackApp, { channel: DM, user: grace.id, text });
    await until(() => after.every((text) => answers(text) >= 1), {
      timeoutMs: 20_000,
      message: "the survivor answers everything",
    });
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    for (const text of [...before, ...after]) expect(answers(text), text).toBe(1);
    expect(slack.sentTo(ROOM)).toHaveLength(4);
  }, 90_000);
});
