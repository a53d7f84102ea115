import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type FakeSlack, type FakeSlackApp, type FakeSlackUser, startFakeSlack } from "@gateway/fakes";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  ensureBuilt,
  freePort,
  type GatewayProcess,
  cli as gatewayCli,
  startGateway,
} from "./support/gateway-process.js";

const BAD_TOKEN = "xoxb-this-token-was-revoked";
let fake: FakeSlack;
let gateway: GatewayProcess;
let stateDir = "";
let origin = "";
let socketApp: FakeSlackApp;
let httpApp: FakeSlackApp;
let grace: FakeSlackUser;
let linus: FakeSlackUser;
const DM = "D0GRACE";
const HTTP_DM = "D0LINUS";
const GENERAL = "C0GENERAL";

const cli = (args: string[]) => gatewayCli(stateDir, args);

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const say = (app: FakeSlackApp, channel: string, user: FakeSlackUser, text: string, extra = {}) =>
  fake.inject(app, { channel, user: user.id, text, ...extra });

/** Pair `user` in `channel` through the CLI (their first message gets a code). */
async function pair(app: FakeSlackApp, channel: string, user: FakeSlackUser) {
  await say(app, channel, user, "hi, who are you?");
  await fake.until(() => fake.sentTo(channel).length === 1, 10_000);
  const code = /pairing code: ([A-Z2-9]{8})/.exec(fake.sentTo(channel)[0]!.text)?.[1];
  expect(code).toBeDefined();
  const approve = await cli(["pairing", "approve", "slack", code!.toLowerCase()]);
  expect(approve.stderr).toBe("");
  return approve.stdout;
}

beforeAll(async () => {
  ensureBuilt("channel-slack.js");
  fake = await startFakeSlack({ pingIntervalMs: 300, ackTimeoutMs: 800 });
  socketApp = fake.addApp({ botName: "gw_slack_bot", teamName: "Acme" });
  httpApp = fake.addApp({ botName: "gw_http_bot", teamName: "Acme" });
  grace = fake.addUser({ name: "grace", real_name: "Grace Hopper" });
  linus = fake.addUser({ name: "linus", real_name: "Linus Torvalds" });
  fake.addChannel({ id: DM, type: "im" });
  fake.addChannel({ id: HTTP_DM, type: "im" });
  fake.addChannel({ id: GENERAL, name: "general", type: "channel" });
  stateDir = mkdtempSync(join(tmpdir(), "gateway-slack-"));
  const port = (await freePort()) as number;
  origin = `http://127.0.0.1:${port}`;
  fake.setRequestUrl(httpApp, `${origin}/channels/slack/hooked/events`);
  writeFileSync(
    join(stateDir, "gateway.json5"),
    `{
      gateway: { auth: { mode: "token", token: "slack-e2e-token-0123456789" } },
      channels: {
        slack: {
          apiUrl: "${fake.apiUrl}",
          debounceMs: 0,
          replyInThread: true,
          groups: { "${GENERAL}": {} },
          socket: { clientPingTimeoutMs: 300, serverPingTimeoutMs: 5000, silenceMs: 1500, helloTimeoutMs: 3000 },
          accounts: {
            default: { botToken: "${socketApp.botToken}", appToken: "${socketApp.appToken}" },
            hooked: { mode: "http", botToken: "${httpApp.botToken}", signingSecret: "${httpApp.signingSecret}" },
            broken: { botToken: "${BAD_TOKEN}", appToken: "xapp-1-unused" },
          },
        },
      },
    }`,
  );
  gateway = await startGateway(stateDir, {}, [], port);
  await fake
    .until(() => fake.openSockets(socketApp) === 1, 15_000)
    .catch((error: Error) => {
      throw new Error(`${error.message}; the gateway logged:\n${gateway?.output()}`);
    });
}, 60_000);

afterAll(async () => {
  await gateway?.stop();
  await fake?.close();
  rmSync(stateDir, { recursive: true, force: true });
});

describe("Slack through a running gateway", () => {
  it("channels status: both modes connected with team and bot; the bad token is fatal with the fix, tried once", async () => {
    await fake.until(() => fake.calls.some((call) => call.token === httpApp.botToken), 10_000);
    let status = await cli(["channels", "status"]);
    for (let tries = 0; !/slack:hooked\s+connected/.test(status.stdout) && tries < 20; tries++) {
      await sleep(100);
      status = await cli(["channels", "status"]);
    }
    expect(status.stdout).toMatch(
      /slack:default\s+connected\s+socket open \(1 socket\), Acme @gw_slack_bot, 0 reconnects/,
    );
    expect(status.stdout).toMatch(/slack:hooked\s+connected\s+http, Acme @gw_http_bot/);
    expect(status.stdout).toMatch(/slack:broken\s+fatal\s+.*invalid_auth.*Bot User OAuth Token/);
    expect(status.code).toBe(1);
    const probed = await cli(["channels", "status", "--probe"]);
    expect(probed.stdout).toMatch(/slack:default\s+connected\s+socket open.*probe ok/);
    await sleep(1_500);
    expect(fake.calls.filter((call) => call.token === BAD_TOKEN)).toHaveLength(1);
  });

  it("Socket Mode: an unknown sender gets a code; approved with the CLI, their next message is answered in the DM", async () => {
    expect(await pair(socketApp, DM, grace)).toMatch(/✔ approved Grace Hopper \(U\w+\) on slack:default/);
    const { ts } = await say(socketApp, DM, grace, "hello gateway");
    await fake.until(() => fake.sentTo(DM).length === 2, 10_000);
    const reply = fake.sentTo(DM)[1]!;
    expect(reply.text.endsWith("hello gateway")).toBe(true);
    expect(reply.thread_ts).toBeUndefined(); // DMs stay flat even with replyInThread
    // the typing indicator: a reaction on the message, taken off with the reply
    await fake.until(() => fake.reactions.filter((reaction) => reaction.timestamp === ts).length === 2);
    expect(fake.reactions.filter((reaction) => reaction.timestamp === ts).map((reaction) => reaction.action)).toEqual([
      "add",
      "remove",
    ]);
    const sessions = await cli(["sessions", "list"]);
    expect(sessions.stdout).toMatch(/agent:main:main\s+.*slack:D0GRACE/);
  }, 30_000);

  it("HTTP mode: pairing and a reply in the DM, through the gateway's port", async () => {
    expect(await pair(httpApp, HTTP_DM, linus)).toMatch(/✔ approved Linus Torvalds \(U\w+\) on slack:hooked/);
    await say(httpApp, HTTP_DM, linus, "hello over http");
    await fake.until(() => fake.sentTo(HTTP_DM).length === 2, 10_000);
    expect(fake.sentTo(HTTP_DM)[1]!.text.endsWith("hello over http")).toBe(true);
  }, 30_000);

  it("a channel message that mentions the bot is answered once, in its thread; a reply there goes on without a mention", async () => {
    await say(socketApp, GENERAL, grace, "lunch at noon, everyone?");
    await sleep(800);
    expect(fake.sentTo(GENERAL)).toHaveLength(0);
    const { ts } = await fake.inject(
      socketApp,
      { channel: GENERAL, user: grace.id, text: `<@${socketApp.botUserId}> did I ask about lunch?` },
      { mention: true },
    );
    await fake.until(() => fake.sentTo(GENERAL).length === 1, 10_000);
    await sleep(500); // the app_mention twin must not get a second answer
    expect(fake.sentTo(GENERAL)).toHaveLength(1);
    const reply = fake.sentTo(GENERAL)[0]!;
    expect(reply.thread_ts).toBe(ts);
    expect(reply.text).toContain("Grace Hopper: lunch at noon, everyone?");
    expect(reply.text).toContain("Grace Hopper: @gw_slack_bot did I ask about lunch?");
    await say(socketApp, GENERAL, grace, "and dinner?", { thread_ts: ts, parent_user_id: grace.id });
    await fake.until(() => fake.sentTo(GENERAL).length === 2, 10_000);
    expect(fake.sentTo(GENERAL)[1]).toMatchObject({ thread_ts: ts });
    expect(fake.sentTo(GENERAL)[1]!.text).toContain("and dinner?");
  }, 30_000);

  it("a long reply arrives in chunks of at most 4,000 characters, in order, its code block whole", async () => {
    const code = Array.from({ length: 30 }, (_, index) => `let value${index} = ${index} * 2;`).join("\n");
    const words = Array.from({ length: 1_400 }, (_, index) => `w${String(index).padStart(4, "0")}`);
    const text = `${words.slice(0, 700).join(" ")}\n\n\`\`\`\n${code}\n\`\`\`\n\n${words.slice(700).join(" ")}`;
    const before = fake.sentTo(DM).length;
    await say(socketApp, DM, grace, text);
    await fake.until(() => fake.sentTo(DM).length >= before + 3, 20_000);
    await sleep(1_500); // nothing more comes
    const chunks = fake.sentTo(DM).slice(before);
    expect(chunks.length).toBe(3);
    for (const chunk of chunks) {
      expect(chunk.text.length).toBeLessThanOrEqual(4000);
      expect((chunk.text.match(/^```$/gm) ?? []).length % 2).toBe(0);
    }
    expect(chunks.filter((chunk) => chunk.text.includes(`\`\`\`\n${code}\n\`\`\``))).toHaveLength(1);
    const sent = chunks.flatMap((chunk) => chunk.text.split(/\s+/)).filter((word) => /^w\d{4}$/.test(word));
    expect(sent).toEqual(words);
  }, 40_000);

  it("refresh_requested and a silent socket are each replaced: nothing lost, nothing twice, never more than 2 sockets", async () => {
    fake.resetMaxOpen(socketApp);
    const before = fake.sentTo(DM).length;
    const texts = Array.from({ length: 6 }, (_, index) => `across the swap ${index}`);
    for (const text of texts.slice(0, 3)) await say(socketApp, DM, grace, text);
    fake.disconnect(socketApp, "refresh_requested", { closeAfterMs: 1_000 });
    for (const text of texts.slice(3)) await say(socketApp, DM, grace, text);
    await fake.until(() => fake.sentTo(DM).length >= before + 6, 20_000);
    const silent = fake.sockets.filter((socket) => socket.appId === socketApp.appId && !socket.closedAt).at(-1)!;
    fake.silence(silent.id, "deaf");
    await say(socketApp, DM, grace, "into a deaf socket");
    await fake.until(() => fake.sentTo(DM).length >= before + 7, 20_000);
    await sleep(1_000);
    const replies = fake
      .sentTo(DM)
      .slice(before)
      .map((message) => message.text);
    expect(replies).toHaveLength(7);
    for (const text of [...texts, "into a deaf socket"])
      expect(replies.filter((reply) => reply.endsWith(text))).toHaveLength(1);
    expect(fake.maxOpenSockets(socketApp)).toBeLessThanOrEqual(2);
    await fake.until(() => fake.openSockets(socketApp) === 1);
    const status = await cli(["channels", "status"]);
    // Two replacements at least (the refresh and the deaf socket); a loaded machine can make a pong late and the
    // link replace one more — still one socket open, nothing lost or twice.
    const shown = /slack:default\s+connected\s+socket open \(1 socket\), Acme @gw_slack_bot, (\d+) reconnects/.exec(
      status.stdout,
    );
    expect(shown, status.stdout).not.toBeNull();
    expect(Number(shown![1])).toBeGreaterThanOrEqual(2);
  }, 60_000);

  it("an envelope whose ack was lost is delivered again and answered once", async () => {
    const before = fake.sentTo(DM).length;
    fake.dropAcks(socketApp, 1);
    const { eventIds } = await say(socketApp, DM, grace, "ack lost once");
    await fake.until(
      () => fake.deliveries.find((delivery) => delivery.eventId === eventIds[0])?.ackedBy !== undefined,
      10_000,
    );
    expect(fake.deliveries.find((delivery) => delivery.eventId === eventIds[0])?.attempts).toBe(2);
    await fake.until(() => fake.sentTo(DM).length === before + 1, 10_000);
    await sleep(1_000);
    expect(
      fake
        .sentTo(DM)
        .slice(before)
        .map((message) => message.text.endsWith("ack lost once")),
    ).toEqual([true]);
  }, 30_000);

  it("HTTP mode: a bad signature and an old timestamp get 401, url_verification is answered, a retry is answered once", async () => {
    const body = JSON.stringify({ type: "event_callback", event_id: "Ev0FORGED", event: { type: "message" } });
    expect((await fake.postToApp(httpApp, body, { signature: `v0=${"f".repeat(64)}` })).status).toBe(401);
    expect((await fake.postToApp(httpApp, body, { timestamp: Math.floor(Date.now() / 1000) - 400 })).status).toBe(401);
    const challenge = await fake.postToApp(
      httpApp,
      JSON.stringify({ type: "url_verification", challenge: "ch4llenge" }),
    );
    expect(await challenge.json()).toEqual({ challenge: "ch4llenge" });
    const before = fake.sentTo(HTTP_DM).length;
    const { eventIds } = await say(httpApp, HTTP_DM, linus, "retried over http");
    await fake.redeliver(eventIds[0]!);
    await fake.redeliver(eventIds[0]!);
    await fake.until(() => fake.sentTo(HTTP_DM).length === before + 1, 10_000);
    await sleep(1_000);
    expect(fake.sentTo(HTTP_DM)).toHaveLength(before + 1);
  }, 30_000);

  it("send delivers to a channel through the CLI", async () => {
    const sent = await cli(["send", "--channel", "slack", "--to", GENERAL, "**reminder**: stand-up at 10"]);
    expect(sent.stderr).toBe("");
    expect(sent.stdout).toMatch(/✔ sent to slack:default C0GENERAL \(1 message\)/);
    expect(fake.sentTo(GENERAL).at(-1)!.text).toBe("*reminder*: stand-up at 10");
  });

  it("config validate checks Slack's settings offline, with their paths", async () => {
    const dir = mkdtempSync(join(tmpdir(), "gateway-slack-validate-"));
    try {
      writeFileSync(
        join(dir, "gateway.json5"),
        "{ channels: { slack: { accounts: { work: { botTokn: 'x', mode: 'webhook', botToken: 'xapp-swapped' } } } } }",
      );
      const validate = await gatewayCli(dir, ["config", "validate"]);
      expect(validate.code).toBe(2);
      expect(validate.stderr).toMatch(/channels\.slack\.accounts\.work\.botTokn: unknown setting for Slack/);
      expect(validate.stderr).toMatch(/channels\.slack\.accounts\.work\.mode: /);
      expect(validate.stderr).toMatch(/channels\.slack\.accounts\.work\.botToken: /);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("stopping the gateway closes every socket", async () => {
    await gateway.stop();
    await fake.until(() => fake.openSockets(socketApp) === 0, 5_000);
  });
});
