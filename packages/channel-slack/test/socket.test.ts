// Socket Mode against the fake Slack with the real Bolt and @slack/socket-mode: sockets replaced on a disconnect
// message or when silent, never more than two open, no event lost or processed twice, fatal disconnects.
import type { FakeSlack, FakeSlackApp } from "@gateway/fakes";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { MemoryEventDedupe } from "../src/index.js";
import { sleep, startAccount, useFakeSlack } from "./helpers.js";

const slack = useFakeSlack();
let fake: FakeSlack;
beforeAll(async () => {
  await slack.start();
  fake = slack.state.fake;
});
afterEach(() => slack.cleanup());
afterAll(() => slack.stop());

/** An app, a user and a DM, and a started account. */
async function setUp(overrides = {}, options = {}) {
  const app = fake.addApp({ botName: "socket_bot" });
  const user = fake.addUser({ name: "grace", real_name: "Grace Hopper" });
  const dm = fake.addChannel({ type: "im" });
  const started = startAccount(fake, app, slack.state.cleanups, overrides, options);
  await started.started;
  fake.resetMaxOpen(app);
  const texts = () => started.test.received.map((message) => message.text);
  const say = (text: string) => fake.inject(app, { channel: dm.id, user: user.id, text });
  return { app, user, dm, ...started, texts, say };
}

const openSocketsOf = (app: FakeSlackApp) =>
  fake.sockets.filter((socket) => socket.appId === app.appId && !socket.closedAt);

describe("slack socket mode", () => {
  it("refresh_requested: a new connection is opened before the old one goes; every event arrives once, ≤ 2 sockets", async () => {
    const { app, test, account, texts, say } = await setUp();
    const first = openSocketsOf(app)[0]!;
    for (let index = 0; index < 5; index++) await say(`before ${index}`);
    fake.disconnect(app, "refresh_requested", { closeAfterMs: 500 });
    for (let index = 0; index < 5; index++) await say(`during ${index}`);
    await test.until(() => test.received.length >= 10, 10_000);
    await sleep(800); // late retries would show up now
    expect(texts().sort()).toEqual([
      ...Array.from({ length: 5 }, (_, index) => `before ${index}`),
      ...Array.from({ length: 5 }, (_, index) => `during ${index}`),
    ]);
    expect(fake.maxOpenSockets(app)).toBeLessThanOrEqual(2);
    await fake.until(() => fake.openSockets(app) === 1);
    expect(fake.sockets.find((socket) => socket.id === first.id)?.closedAt).toBeDefined();
    expect(account.socketState).toMatchObject({
      state: "open",
      reconnects: 1,
      lastDisconnectReason: "refresh_requested",
    });
    expect(test.status().mode).toMatch(
      /^socket open \(1 socket\), Fakeworks @socket_bot, 1 reconnects, last disconnect: refresh_requested$/,
    );
  });

  it("a half-open socket (no pongs, nothing received) is replaced and its events are delivered again", async () => {
    const { app, test, texts, say } = await setUp();
    const silent = openSocketsOf(app)[0]!;
    fake.silence(silent.id, "half-open");
    for (let index = 0; index < 3; index++) await say(`into the void ${index}`);
    await test.until(() => test.received.length === 3, 10_000);
    expect(texts().sort()).toEqual(["into the void 0", "into the void 1", "into the void 2"]);
    await fake.until(() => fake.sockets.find((socket) => socket.id === silent.id)?.closedAt !== undefined, 5_000);
    expect(fake.maxOpenSockets(app)).toBeLessThanOrEqual(2);
    expect(fake.openSockets(app)).toBe(1);
  });

  it("a deaf socket (answers pings, Slack sends nothing) is replaced by the watchdog before the library notices", async () => {
    const { app, test, account, say } = await setUp();
    const deaf = openSocketsOf(app)[0]!;
    const silencedAt = Date.now();
    fake.silence(deaf.id, "deaf");
    // The library's own check waits serverPingTimeoutMs (5 s here); the watchdog acts after silenceMs (1.2 s).
    await fake.until(() => openSocketsOf(app).some((socket) => socket.id !== deaf.id && socket.hello), 4_000);
    expect(Date.now() - silencedAt).toBeLessThan(3_500);
    await fake.until(() => fake.sockets.find((socket) => socket.id === deaf.id)?.closedAt !== undefined);
    await say("after the watchdog");
    await test.until(() => test.received.some((message) => message.text === "after the watchdog"));
    expect(account.socketState?.reconnects).toBe(1);
    expect(fake.maxOpenSockets(app)).toBeLessThanOrEqual(2);
  });

  it("an envelope whose ack was lost is delivered again and processed once (by event id)", async () => {
    const claims: Array<[string, boolean]> = [];
    const memory = new MemoryEventDedupe();
    const dedupe = {
      claim(key: string) {
        const first = memory.claim(key);
        claims.push([key, first]);
        return first;
      },
    };
    const { app, test, say } = await setUp({}, { dedupe });
    fake.dropAcks(app, 1);
    const { eventIds } = await say("ack me twice");
    const delivery = () => fake.deliveries.find((entry) => entry.eventId === eventIds[0]);
    await fake.until(() => delivery()?.ackedBy !== undefined, 5_000);
    expect(delivery()?.attempts).toBe(2);
    await sleep(200);
    const byEvent = () => claims.filter(([key]) => key === eventIds[0]);
    expect(byEvent()).toEqual([
      [eventIds[0], true],
      [eventIds[0], false],
    ]);
    // the message itself was claimed once, when the first delivery was processed
    expect(claims.filter(([key]) => key.startsWith("message:"))).toEqual([[expect.stringMatching(/^message:D/), true]]);
    expect(test.received.map((message) => message.text)).toEqual(["ack me twice"]);
    // Slack's own retry of an acked event (the ack may have been lost on the way) is dropped as well.
    await fake.redeliver(eventIds[0]!);
    await fake.until(() => byEvent().length === 3);
    expect(byEvent()[2]).toEqual([eventIds[0], false]);
    expect(test.received).toHaveLength(1);
  });

  it("two gateways on one app with a shared dedupe (active-active): each message passed on by exactly one", async () => {
    const app = fake.addApp({ botName: "shared_bot" });
    const user = fake.addUser({ name: "ada", real_name: "Ada Lovelace" });
    const general = fake.addChannel({ type: "channel" });
    const shared = new MemoryEventDedupe();
    const one = startAccount(fake, app, slack.state.cleanups, {}, { dedupe: shared });
    const two = startAccount(fake, app, slack.state.cleanups, {}, { dedupe: shared });
    await Promise.all([one.started, two.started]);
    expect(fake.openSockets(app)).toBe(2);
    for (let index = 0; index < 6; index++)
      await fake.inject(
        app,
        { channel: general.id, user: user.id, text: `<@${app.botUserId}> number ${index}` },
        { mention: true },
      );
    const all = () => [...one.test.received, ...two.test.received].map((message) => message.text);
    await fake.until(() => all().length === 6, 5_000);
    await sleep(300);
    expect(all().sort()).toEqual(Array.from({ length: 6 }, (_, index) => `@shared_bot number ${index}`));
    // Slack spread the 12 events (a message and its app_mention each) over both connections
    const open = fake.sockets.filter((socket) => socket.appId === app.appId && !socket.closedAt);
    expect(open.map((socket) => socket.delivered.length)).toEqual([6, 6]);
  });

  it("a storm of disconnects of every kind: never more than 2 sockets open, 1 at rest, and messages still flow", async () => {
    const { app, test, account, say } = await setUp();
    // Each round takes the current socket away one way: Slack asks for a new one, the network cuts it, it goes deaf.
    for (let round = 0; round < 30; round++) {
      // the newest greeted socket is the one in use (an older one may still be closing)
      const current = openSocketsOf(app)
        .filter((socket) => socket.hello)
        .sort((a, b) => b.id - a.id)[0]!;
      if (round % 3 === 0) fake.disconnect(app, "refresh_requested", { socketId: current.id, closeAfterMs: 5_000 });
      else if (round % 3 === 1) fake.dropSocket(current.id);
      else fake.silence(current.id, "deaf");
      await fake.until(
        () =>
          current.closedAt !== undefined && openSocketsOf(app).some((socket) => socket.id > current.id && socket.hello),
        5_000,
      );
    }
    // and a burst: disconnects arriving while replacements are still being opened
    for (let index = 0; index < 20; index++) {
      fake.disconnect(app, "refresh_requested", { closeAfterMs: 300 });
      await sleep(15);
    }
    await fake.until(() => fake.openSockets(app) === 1 && account.socketState?.state === "open", 10_000);
    await sleep(500);
    expect(fake.openSockets(app)).toBe(1);
    expect(fake.maxOpenSockets(app)).toBeLessThanOrEqual(2);
    expect(account.socketState!.maxOpenSockets).toBeLessThanOrEqual(2);
    await say("still here");
    await test.until(() => test.received.some((message) => message.text === "still here"), 5_000);
  }, 60_000);

  it("a connection Slack never greets is closed and retried; sockets stay ≤ 2 and messages flow once it greets", async () => {
    const { app, test, say } = await setUp();
    fake.holdHello(app, true);
    fake.disconnect(app, "refresh_requested", { closeAfterMs: 200 });
    await fake.until(
      () => fake.sockets.filter((socket) => socket.appId === app.appId && !socket.hello).length >= 2,
      10_000,
    );
    expect(test.status().connected).toBe(false);
    fake.holdHello(app, false);
    await say("greeted at last");
    await test.until(() => test.received.some((message) => message.text === "greeted at last"), 15_000);
    expect(fake.maxOpenSockets(app)).toBeLessThanOrEqual(2);
    // every socket that never got a hello was closed
    const ungreeted = fake.sockets.filter((socket) => socket.appId === app.appId && !socket.hello);
    await fake.until(() => ungreeted.every((socket) => socket.closedAt !== undefined));
    expect(test.status()).toMatchObject({ connected: true, fatal: false });
  }, 30_000);

  it("link_disabled (Socket Mode turned off) is fatal with the fix, reported once, not retried", async () => {
    const { app, test } = await setUp();
    fake.disconnect(app, "link_disabled");
    await test.until(() => test.status().fatal === true);
    expect(test.status().lastError).toMatch(/link_disabled.*Socket Mode.*mode to http/);
    const opens = () =>
      fake.calls.filter((call) => call.method === "apps.connections.open" && call.token === app.appToken).length;
    const before = opens();
    await sleep(1_000);
    expect(opens()).toBe(before);
    expect(test.errors).toHaveLength(1);
    await fake.until(() => fake.openSockets(app) === 0);
  });

  it("an app whose 10 connections are taken elsewhere: the start fails (retryable) and says so", async () => {
    const app = fake.addApp({ botName: "crowded_bot" });
    const others: WebSocket[] = [];
    for (let index = 0; index < 10; index++) {
      const opened = await fetch(`${fake.apiUrl}apps.connections.open`, {
        method: "POST",
        headers: { authorization: `Bearer ${app.appToken}` },
      }).then((response) => response.json() as Promise<{ url: string }>);
      const socket = new WebSocket(opened.url);
      await new Promise((resolve) => socket.addEventListener("open", resolve, { once: true }));
      others.push(socket);
    }
    slack.state.cleanups.push(() => {
      for (const socket of others) socket.close();
    });
    const { started, test } = startAccount(fake, app, slack.state.cleanups);
    await expect(started).rejects.toMatchObject({
      fatal: false,
      message: expect.stringMatching(/too_many_websockets.*10 Socket Mode connections.*other gateways/),
    });
    expect(test.status()).toMatchObject({ fatal: false, connected: false });
    await fake.until(() => fake.openSockets(app) === 10);
  });

  it("an unknown app token is fatal at start with the fix; apps.connections.open is called once", async () => {
    const app = fake.addApp({ botName: "wrong_token_bot" });
    const { started, test } = startAccount(fake, app, slack.state.cleanups, { appToken: "xapp-1-not-known" });
    await expect(started).rejects.toMatchObject({ fatal: true });
    expect(test.status()).toMatchObject({ fatal: true, connected: false });
    expect(test.status().lastError).toMatch(/invalid_auth.*App-Level Tokens/);
    await sleep(800);
    expect(fake.calls.filter((call) => call.token === "xapp-1-not-known")).toHaveLength(1);
  });

  it("the network goes away and comes back: backoff, no socket left behind, messages flow", async () => {
    const { app, test, say } = await setUp();
    await fake.goDown();
    await test.until(() => (test.status().reconnectAttempts ?? 0) >= 2, 10_000);
    expect(test.status().connected).toBe(false);
    await fake.comeBack();
    await test.until(() => test.status().connected === true, 15_000);
    await say("back online");
    await test.until(() => test.received.some((message) => message.text === "back online"));
    expect(fake.openSockets(app)).toBe(1);
  }, 30_000);

  it("stop closes every socket", async () => {
    const { app, account } = await setUp();
    expect(fake.openSockets(app)).toBe(1);
    await account.stop();
    await fake.until(() => fake.openSockets(app) === 0, 2_000);
    expect(account.socketState).toBeUndefined();
  });
});
