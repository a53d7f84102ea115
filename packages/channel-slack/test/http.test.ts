// HTTP Events API mode: the fake Slack posts signed events to the account's route (served here the way the gateway
// serves it); signatures and timestamps are checked over the raw body, retries are processed once.
import { type FakeSlack, type FakeSlackApp, signSlackRequest } from "@gateway/fakes";
import type { createTestContext } from "@gateway/plugin-sdk/testing";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { verifySlackSignature } from "../src/index.js";
import { serveWebhooks, sleep, startAccount, useFakeSlack } from "./helpers.js";

const slack = useFakeSlack();
let fake: FakeSlack;
beforeAll(async () => {
  await slack.start();
  fake = slack.state.fake;
});
afterEach(() => slack.cleanup());
afterAll(() => slack.stop());

/** An HTTP-mode account whose route the fake posts to. */
async function setUp(): Promise<{
  app: FakeSlackApp;
  test: ReturnType<typeof createTestContext>;
  url: string;
  user: { id: string };
  dm: { id: string };
}> {
  const app = fake.addApp({ botName: "http_bot" });
  let current: ReturnType<typeof createTestContext> | undefined;
  const origin = await serveWebhooks(() => current!, slack.state.cleanups);
  const { test, started } = startAccount(fake, app, slack.state.cleanups, {
    mode: "http",
    appToken: undefined,
    signingSecret: app.signingSecret,
  });
  current = test;
  await started;
  const url = `${origin}/channels/slack/default/events`;
  fake.setRequestUrl(app, url);
  return {
    app,
    test,
    url,
    user: fake.addUser({ name: "ada", real_name: "Ada Lovelace" }),
    dm: fake.addChannel({ type: "im" }),
  };
}

describe("slack HTTP events", () => {
  it("a signed event reaches the account; status says http", async () => {
    const { app, test, user, dm } = await setUp();
    expect(test.status()).toMatchObject({ connected: true, mode: "http, Fakeworks @http_bot" });
    await fake.inject(app, { channel: dm.id, user: user.id, text: "over http" });
    await test.until(() => test.received.length === 1);
    expect(test.received[0]).toMatchObject({ chatType: "direct", text: "over http", sender: { name: "Ada Lovelace" } });
  });

  it("url_verification is answered with its challenge", async () => {
    const { app } = await setUp();
    const answer = await fake.postToApp(
      app,
      JSON.stringify({ type: "url_verification", challenge: "c-12345", token: "t" }),
    );
    expect(answer.status).toBe(200);
    expect(await answer.json()).toEqual({ challenge: "c-12345" });
  });

  it("a bad signature, an old timestamp, a missing header and a body changed after signing get 401; nothing is passed on", async () => {
    const { app, test, user, dm } = await setUp();
    const event = JSON.stringify({
      type: "event_callback",
      event_id: "Ev0FORGED",
      event: {
        type: "message",
        channel: dm.id,
        user: user.id,
        text: "forged",
        ts: "1700000000.000001",
        channel_type: "im",
      },
    });
    const forged = await fake.postToApp(app, event, { signature: `v0=${"0".repeat(64)}` });
    expect(forged.status).toBe(401);
    const old = await fake.postToApp(app, event, { timestamp: Math.floor(Date.now() / 1000) - 6 * 60 });
    expect(old.status).toBe(401);
    expect((await old.json()).error).toMatch(/more than 5 minutes/);
    const future = await fake.postToApp(app, event, { timestamp: Math.floor(Date.now() / 1000) + 6 * 60 });
    expect(future.status).toBe(401);
    const unsigned = await fetch(app.requestUrl!, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: event,
    });
    expect(unsigned.status).toBe(401);
    const tampered = await fetch(app.requestUrl!, {
      method: "POST",
      headers: { "content-type": "application/json", ...signSlackRequest(app.signingSecret, event) },
      body: event.replace("forged", "f0rged"),
    });
    expect(tampered.status).toBe(401);
    const other = await fetch(app.requestUrl!, {
      method: "POST",
      headers: { "content-type": "application/json", ...signSlackRequest("another-apps-secret", event) },
      body: event,
    });
    expect(other.status).toBe(401);
    await sleep(200);
    expect(test.received).toHaveLength(0);
  });

  it("a retried delivery (X-Slack-Retry-Num) is processed once", async () => {
    const { app, test, user, dm } = await setUp();
    const { eventIds } = await fake.inject(app, { channel: dm.id, user: user.id, text: "only once" });
    await test.until(() => test.received.length === 1);
    await fake.redeliver(eventIds[0]!);
    await fake.redeliver(eventIds[0]!);
    await sleep(300);
    expect(test.received.map((message) => message.text)).toEqual(["only once"]);
  });

  it("a body that is not a Slack event gets 400", async () => {
    const { app } = await setUp();
    expect((await fake.postToApp(app, "not json")).status).toBe(400);
    expect((await fake.postToApp(app, "[1,2]")).status).toBe(400);
  });

  it("HTTP mode without a signing secret is fatal and names the setting", async () => {
    const app = fake.addApp({ botName: "unsigned_bot" });
    const { started } = startAccount(fake, app, slack.state.cleanups, { mode: "http", appToken: undefined });
    await expect(started).rejects.toMatchObject({
      fatal: true,
      message: expect.stringMatching(/channels\.slack\.signingSecret/),
    });
  });
});

describe("verifySlackSignature", () => {
  it("accepts Slack's own example and refuses one byte off", () => {
    // The example from Slack's documentation of request signing.
    const secret = "8f742231b10e8888abcd99yyyzzz85a5";
    const body =
      "token=xyzz0WbapA4vBCDEFasx0q6G&team_id=T1DC2JH3J&team_domain=testteamnow&channel_id=G8PSS9T3V&channel_name=foobar&user_id=U2CERLKJA&user_name=roadrunner&command=%2Fwebhook-collect&text=&response_url=https%3A%2F%2Fhooks.slack.com%2Fcommands%2FT1DC2JH3J%2F397700885554%2F96rGlfmibIGlgcZRskXaIFfN&trigger_id=398738663015.47445629121.803a0bc887a14d10d2c447fce8b6703c";
    const headers = {
      timestamp: "1531420618",
      signature: "v0=a2114d57b48eac39b9ad189dd8316235a7b4a8d21a10bd27519666489c69b503",
    };
    expect(verifySlackSignature(secret, headers, Buffer.from(body), 1531420618)).toEqual({ ok: true });
    expect(verifySlackSignature(secret, headers, Buffer.from(`${body}x`), 1531420618).ok).toBe(false);
    expect(verifySlackSignature(secret, headers, Buffer.from(body), 1531420618 + 301).ok).toBe(false);
  });
});
