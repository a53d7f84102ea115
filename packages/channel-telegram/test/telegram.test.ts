import { readFileSync } from "node:fs";
import { createServer } from "node:http";
import { type FakeTelegram, startFakeTelegram } from "@gateway/fakes";
import { createTestContext } from "@gateway/plugin-sdk/testing";
import { settle, until } from "@gateway/vitest-preset/wait";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { TelegramAccount, type TelegramAccountConfig } from "../src/index.js";

let fake: FakeTelegram;
const cleanups: Array<() => Promise<void> | void> = [];
beforeAll(async () => {
  fake = await startFakeTelegram();
});
afterAll(() => fake.close());
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

/** A started account on a fresh bot of the fake. */
async function startAccount(overrides: Partial<TelegramAccountConfig> = {}, username = "gw_test_bot") {
  const token = overrides.botToken ?? fake.addBot(username);
  const config = { botToken: token, apiRoot: fake.apiRoot, pollTimeoutSeconds: 1, ...overrides };
  const test = createTestContext("telegram", "default", config);
  const account = new TelegramAccount("default", config);
  cleanups.push(async () => {
    await account.stop();
    test.dispose();
  });
  return { token, test, account, started: account.start(test.context) };
}

const user = { id: 501, is_bot: false, first_name: "Grace", last_name: "Hopper", username: "grace" };
const group = { id: -100777, type: "supergroup" as const, title: "Team" };

describe("telegram account", () => {
  it("normalizes groups, mentions, replies to the bot and forum topics", async () => {
    const { token, test, account, started } = await startAccount({}, "team_helper_bot");
    await started;
    const bot = fake.bot(token);
    await fake.inject(token, { chat: group, from: user, text: "no mention here" });
    await fake.inject(token, {
      chat: group,
      from: user,
      text: "hey @Team_Helper_Bot look",
      entities: [{ type: "mention", offset: 4, length: 16 }],
    });
    await fake.inject(token, {
      chat: group,
      from: user,
      text: "answering you",
      reply_to_message: { message_id: 3, date: 0, chat: group, from: bot, text: "earlier" },
    });
    await fake.inject(token, {
      chat: { ...group, is_forum: true },
      from: user,
      text: "in a topic",
      message_thread_id: 77,
      is_topic_message: true,
      reply_to_message: { message_id: 77, date: 0, chat: group, from: user, forum_topic_created: { name: "t" } },
    });
    await test.until(() => test.received.length === 4);
    const [plain, mentioned, reply, topic] = test.received;
    expect(plain).toMatchObject({ chatType: "group", peer: "-100777", wasMentioned: false });
    expect(plain?.sender).toEqual({ id: "501", name: "Grace Hopper", username: "grace" });
    expect(mentioned?.wasMentioned).toBe(true);
    expect(reply).toMatchObject({ wasMentioned: true, replyTo: { messageId: "3", isFromBot: true } });
    expect(topic).toMatchObject({ chatType: "group", threadId: "77", wasMentioned: false });
    expect(topic?.replyTo).toBeUndefined();
    // replies go to the topic, the first chunk replying to the message
    await account.sendText({ peer: "-100777", threadId: "77", replyToMessageId: topic!.messageId, text: "ok" });
    expect(fake.sent(token).at(-1)).toMatchObject({
      chat_id: "-100777",
      message_thread_id: 77,
      reply_to_message_id: Number(topic!.messageId),
    });
    await account.sendTyping("-100777", "77");
    expect(
      fake.calls.filter((call) => call.token === token && call.method === "sendChatAction").at(-1)?.params,
    ).toMatchObject({
      action: "typing",
      message_thread_id: 77,
    });
  });

  it("downloads a photo or a document into the state dir and passes it as a reference", async () => {
    const { token, test, started } = await startAccount();
    await started;
    const file = fake.addFile(Buffer.from("%PDF-1.4 fake"), "documents/file_7.pdf");
    await fake.inject(token, {
      chat: { id: 501, type: "private" },
      from: user,
      caption: "see attached",
      document: { ...file, file_name: "report.pdf", mime_type: "application/pdf" },
    });
    await test.until(() => test.received.length === 1);
    const message = test.received[0]!;
    expect(message.text).toBe("see attached");
    expect(message.media?.[0]).toMatchObject({ kind: "document", mimeType: "application/pdf", fileName: "report.pdf" });
    expect(message.media?.[0]?.path?.startsWith(test.context.stateDir)).toBe(true);
    expect(readFileSync(message.media![0]!.path!, "utf8")).toBe("%PDF-1.4 fake");
  });

  it("markdown goes out as Telegram HTML; what Telegram cannot parse goes again as plain text", async () => {
    const { token, account, started } = await startAccount();
    await started;
    await account.sendText({ peer: "501", text: "**Done**: `a < b` and *more*" });
    expect(fake.sent(token).at(-1)).toMatchObject({
      parse_mode: "HTML",
      raw: "<b>Done</b>: <code>a &lt; b</code> and <i>more</i>",
      text: "Done: a < b and more",
    });
    fake.failNext("sendMessage", { status: 400, description: "Bad Request: can't parse entities: Unexpected end tag" });
    await account.sendText({ peer: "501", text: "**still** delivered" });
    const last = fake.sent(token).at(-1)!;
    expect(last.text).toBe("**still** delivered");
    expect(last.parse_mode).toBeUndefined();
  });

  it("waits out a 429 with retry_after and still delivers", async () => {
    const { token, account, started } = await startAccount();
    await started;
    fake.failNext("sendMessage", { status: 429, retryAfter: 1 });
    const began = Date.now();
    const result = await account.sendText({ peer: "501", text: "after the limit" });
    expect(Date.now() - began).toBeGreaterThanOrEqual(950);
    expect(fake.sent(token).at(-1)).toMatchObject({ text: "after the limit", message_id: Number(result.messageId) });
  });

  it("a second process polling the same token: 409 is fatal with the fix, and polling stops", async () => {
    // The account under test long-polls for 30 s, the second one for 2 s: its loop's polls are told apart by the
    // timeout they ask for (both share the token, so the token alone cannot tell them apart).
    const first = await startAccount({ pollTimeoutSeconds: 30 });
    await first.started;
    const loopPolls = (timeout: number) =>
      fake.calls.filter(
        (call) => call.token === first.token && call.method === "getUpdates" && Number(call.params.timeout) === timeout,
      );
    // Its poll is held by the fake once the call is recorded: the second process's first poll will end it with 409.
    await until(() => loopPolls(30).length === 1, { message: "the first account's long poll held" });
    const second = await startAccount({ botToken: first.token, pollTimeoutSeconds: 2 });
    await second.started;
    await first.test.until(() => first.test.status().fatal === true);
    const fatalAt = Date.now();
    expect(first.test.status().lastError).toMatch(/another process is polling this bot token \(409 Conflict\)/);
    expect(first.test.errors).toHaveLength(1);
    expect(first.test.errors[0]?.message).toMatch(/409/);
    await second.account.stop(); // the token is free again: a retrying first account would poll unopposed
    // Negative window: a retry comes after the account's backoff (500 ms ±20 %); give it 700 ms from the 409.
    await settle(fatalAt + 700 - Date.now());
    expect(loopPolls(30)).toHaveLength(1); // the one that got the 409: no retry loop from the fatal account
    expect(first.test.status()).toMatchObject({ fatal: true, running: false });
  });

  it("a token revoked while running: fatal status, reported once, no retries", async () => {
    const { token, test, started } = await startAccount();
    await started;
    fake.revoke(token);
    await test.until(() => test.status().fatal === true, 5_000);
    const fatalAt = Date.now();
    expect(test.status()).toMatchObject({ connected: false, running: false });
    expect(test.status().lastError).toMatch(/401 Unauthorized.*@BotFather/);
    const calls = fake.calls.filter((call) => call.token === token).length;
    // Negative window: a retry comes after the account's backoff (500 ms ±20 %); give it 700 ms from the 401.
    await settle(fatalAt + 700 - Date.now());
    expect(fake.calls.filter((call) => call.token === token).length).toBe(calls);
    expect(test.errors).toHaveLength(1);
  });

  it("a missing token fails start as fatal and says where to put it", async () => {
    const config = { apiRoot: fake.apiRoot };
    const test = createTestContext("telegram", "work", config);
    const account = new TelegramAccount("work", config);
    await expect(account.start(test.context)).rejects.toMatchObject({
      fatal: true,
      message: expect.stringMatching(/channels\.telegram\.accounts\.work\.botToken/),
    });
    test.dispose();
  });

  it("several bots run side by side", async () => {
    const one = await startAccount({}, "bot_one");
    const two = await startAccount({}, "bot_two");
    await Promise.all([one.started, two.started]);
    await fake.inject(one.token, { chat: { id: 501, type: "private" }, from: user, text: "to one" });
    await fake.inject(two.token, { chat: { id: 501, type: "private" }, from: user, text: "to two" });
    await one.test.until(() => one.test.received.length === 1);
    await two.test.until(() => two.test.received.length === 1);
    expect(one.test.received[0]?.text).toBe("to one");
    expect(two.test.received[0]?.text).toBe("to two");
  });

  it("webhook mode: setWebhook with a secret, a wrong secret gets 401, a right one is received", async () => {
    let test: ReturnType<typeof createTestContext> | undefined;
    // The gateway's side of a webhook, as a plain HTTP server: the request goes to the route as a web Request.
    const http = createServer(async (request, response) => {
      let raw = "";
      for await (const chunk of request) raw += chunk;
      const web = new Request(`http://127.0.0.1${request.url}`, {
        method: request.method ?? "POST",
        headers: request.headers as Record<string, string>,
        body: raw,
      });
      const answer = await test!.webhook("POST", request.url ?? "", web);
      response.writeHead(answer.status, { "content-type": answer.headers.get("content-type") ?? "text/plain" });
      response.end(await answer.text());
    });
    await new Promise<void>((resolve) => http.listen(0, "127.0.0.1", resolve));
    cleanups.push(() => new Promise<void>((resolve) => http.close(() => resolve())));
    const url = `http://127.0.0.1:${(http.address() as { port: number }).port}/channels/telegram/default/webhook`;
    const token = fake.addBot("hook_bot");
    const config = { botToken: token, apiRoot: fake.apiRoot, mode: "webhook" as const, webhook: { url } };
    test = createTestContext("telegram", "default", config);
    const context = test.context;
    const account = new TelegramAccount("default", config);
    cleanups.push(async () => {
      await account.stop();
      test.dispose();
    });
    await account.start(context);
    expect(test.status()).toMatchObject({ connected: true, mode: "webhook" });
    const webhookTest = test;
    const setWebhook = fake.calls.find((call) => call.token === token && call.method === "setWebhook");
    expect(setWebhook?.params).toMatchObject({ url });
    expect(String(setWebhook?.params.secret_token)).toMatch(/^[A-Za-z0-9_-]{16,}$/);
    const forged = await fetch(url, {
      method: "POST",
      headers: { "content-type": "application/json", "x-telegram-bot-api-secret-token": "guess" },
      body: JSON.stringify({
        update_id: 1,
        message: { message_id: 1, date: 1, chat: { id: 1, type: "private" }, text: "x" },
      }),
    });
    expect(forged.status).toBe(401);
    await fake.inject(token, { chat: { id: 501, type: "private" }, from: user, text: "via the webhook" });
    await webhookTest.until(() => webhookTest.received.length === 1);
    expect(webhookTest.received[0]).toMatchObject({ text: "via the webhook", chatType: "direct", peer: "501" });
    expect(fake.calls.some((call) => call.token === token && call.method === "getUpdates")).toBe(false);
  });
});
