// The Slack account against the fake Slack (real Bolt, Socket Mode): normalization of DMs, channels and threads,
// replies and threads, 429s, scopes, fatal tokens, typing indicators, files in and out.
import { readFileSync, writeFileSync } from "node:fs";
import { createServer } from "node:http";
import { join } from "node:path";
import { FAKE_SLACK_DEFAULT_SCOPES, type FakeSlack } from "@gateway/fakes";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { sleep, startAccount, useFakeSlack } from "./helpers.js";

const slack = useFakeSlack();
let fake: FakeSlack;
beforeAll(async () => {
  await slack.start();
  fake = slack.state.fake;
});
afterEach(() => slack.cleanup());
afterAll(() => slack.stop());

/** A logger that keeps what it was told. */
function recordingLogger() {
  const lines: string[] = [];
  const keep = (first: unknown, second?: unknown) => lines.push(String(second ?? first));
  return { lines, logger: { debug() {}, info: keep, warn: keep, error: keep } };
}

async function setUp(overrides = {}, scopes?: string[]) {
  const app = fake.addApp({ botName: "team_bot", ...(scopes ? { scopes } : {}) });
  const grace = fake.addUser({ name: "grace", real_name: "Grace Hopper" });
  const dm = fake.addChannel({ type: "im" });
  const general = fake.addChannel({ type: "channel", name: "general" });
  const started = startAccount(fake, app, slack.state.cleanups, overrides);
  const { lines, logger } = recordingLogger();
  (started.test.context as { logger: unknown }).logger = logger;
  await started.started;
  return { app, grace, dm, general, logs: lines, ...started };
}

describe("slack account", () => {
  it("normalizes DMs, channels, private channels, group DMs and threads; a mention and its app_mention come once", async () => {
    const { app, grace, dm, general, test } = await setUp();
    const secret = fake.addChannel({ type: "group", name: "secret" });
    const trio = fake.addChannel({ type: "mpim" });
    await fake.inject(app, { channel: dm.id, user: grace.id, text: "hello in private" });
    await fake.inject(app, { channel: general.id, user: grace.id, text: "lunch?" });
    const mention = await fake.inject(
      app,
      { channel: general.id, user: grace.id, text: `<@${app.botUserId}> what about you?` },
      { mention: true },
    );
    await fake.inject(app, {
      channel: general.id,
      user: grace.id,
      text: "in the thread",
      thread_ts: mention.ts,
      parent_user_id: grace.id,
    });
    await fake.inject(app, { channel: secret.id, user: grace.id, text: "private channel" });
    await fake.inject(app, { channel: trio.id, user: grace.id, text: "group dm" });
    await test.until(() => test.received.length === 6);
    await sleep(300); // the app_mention twin of the mention must not arrive as a 7th
    expect(test.received).toHaveLength(6);
    const [direct, plain, mentioned, threaded, privateChannel, groupDm] = test.received;
    expect(direct).toMatchObject({
      chatType: "direct",
      peer: dm.id,
      sender: { id: grace.id, name: "Grace Hopper", username: "grace" },
      wasMentioned: false,
    });
    expect(plain).toMatchObject({ chatType: "channel", peer: general.id, wasMentioned: false });
    expect(mentioned).toMatchObject({ text: "@team_bot what about you?", wasMentioned: true, messageId: mention.ts });
    expect(mentioned?.threadId).toBeUndefined();
    expect(threaded).toMatchObject({
      threadId: mention.ts,
      wasMentioned: false,
      replyTo: { messageId: mention.ts, isFromBot: false },
    });
    expect(privateChannel).toMatchObject({ chatType: "group", peer: secret.id });
    expect(groupDm).toMatchObject({ chatType: "group", peer: trio.id });
    expect(direct!.timestamp).toBeGreaterThan(0);
  });

  it("ignores the bot's own messages, other bots, edits, deletions and joins", async () => {
    const { app, grace, general, test } = await setUp();
    await fake.inject(app, { channel: general.id, user: app.botUserId, text: "my own echo" });
    await fake.inject(app, {
      channel: general.id,
      user: "U0OTHERBOT",
      bot_id: "B0OTHER",
      subtype: "bot_message",
      text: "beep",
    });
    await fake.inject(app, {
      channel: general.id,
      user: grace.id,
      subtype: "message_changed",
      extra: { message: { user: grace.id, text: "edited text", ts: "1.000001" } },
    });
    await fake.inject(app, { channel: general.id, user: grace.id, subtype: "message_deleted", text: "" });
    await fake.inject(app, { channel: general.id, user: grace.id, subtype: "channel_join", text: "joined" });
    await fake.inject(app, { channel: general.id, user: grace.id, text: "a real message" });
    await test.until(() => test.received.length === 1);
    await sleep(300);
    expect(test.received.map((message) => message.text)).toEqual(["a real message"]);
  });

  it("replies go into the message's thread; replyInThread threads top-level channel messages (not DMs); the bot's threads count as addressed", async () => {
    const { app, grace, dm, general, test, account } = await setUp({ replyInThread: true });
    await account.sendText({ peer: general.id, text: "threaded", replyToMessageId: "1700000000.000100" });
    await account.sendText({ peer: dm.id, text: "in the DM", replyToMessageId: "1700000000.000200" });
    await account.sendText({ peer: general.id, text: "in a thread", threadId: "1700000000.000300" });
    expect(fake.posted.slice(-3).map((message) => [message.channel, message.text, message.thread_ts])).toEqual([
      [general.id, "threaded", "1700000000.000100"],
      [dm.id, "in the DM", undefined],
      [general.id, "in a thread", "1700000000.000300"],
    ]);
    await fake.inject(app, {
      channel: general.id,
      user: grace.id,
      text: "thanks, and one more thing",
      thread_ts: "1700000000.000100",
      parent_user_id: grace.id,
    });
    await test.until(() => test.received.length === 1);
    expect(test.received[0]).toMatchObject({ threadId: "1700000000.000100", wasMentioned: true });
  });

  it("a long reply goes out as ordered chunks of at most 4,000 characters with its code block whole", async () => {
    const { dm, account } = await setUp();
    const code = Array.from({ length: 40 }, (_, index) => `print(${index})  # <${index}>`).join("\n");
    const words = Array.from({ length: 1_200 }, (_, index) => `w${index}`);
    const markdown = `${words.slice(0, 600).join(" ")}\n\n\`\`\`python\n${code}\n\`\`\`\n\n${words.slice(600).join(" ")}`;
    const result = await account.sendText({ peer: dm.id, text: markdown });
    const chunks = fake.sentTo(dm.id).slice(-result.messageIds.length);
    expect(chunks.length).toBeGreaterThanOrEqual(2);
    expect(chunks.map((chunk) => chunk.ts)).toEqual(result.messageIds);
    for (const chunk of chunks) expect(chunk.text.length).toBeLessThanOrEqual(4000);
    const withCode = chunks.filter((chunk) => chunk.text.includes("print("));
    expect(withCode).toHaveLength(1);
    expect(withCode[0]!.text).toContain(`\`\`\`\n${code.replaceAll("<", "&lt;").replaceAll(">", "&gt;")}\n\`\`\``);
    const sentWords = chunks.flatMap((chunk) => chunk.text.split(/\s+/)).filter((word) => /^w\d+$/.test(word));
    expect(sentWords).toEqual(words);
  });

  it("waits out a 429 with its Retry-After and still delivers", async () => {
    const { dm, account } = await setUp();
    fake.failNext("chat.postMessage", { error: "ratelimited", status: 429, retryAfter: 1 });
    const began = Date.now();
    const result = await account.sendText({ peer: dm.id, text: "after the limit" });
    expect(Date.now() - began).toBeGreaterThanOrEqual(950);
    expect(fake.sentTo(dm.id).at(-1)).toMatchObject({ text: "after the limit", ts: result.messageId });
  });

  it("a missing scope on a send names the scope to add and is not retried", async () => {
    const { app, dm, account } = await setUp(
      {},
      FAKE_SLACK_DEFAULT_SCOPES.filter((scope) => scope !== "chat:write"),
    );
    await expect(account.sendText({ peer: dm.id, text: "cannot" })).rejects.toMatchObject({
      fatal: true,
      message: expect.stringMatching(/lacks the scope chat:write.*OAuth & Permissions → Bot Token Scopes/),
    });
    expect(fake.calls.filter((call) => call.method === "chat.postMessage" && call.token === app.botToken)).toHaveLength(
      1,
    );
  });

  it("scopes the app lacks are named at start", async () => {
    const { logs } = await setUp(
      {},
      FAKE_SLACK_DEFAULT_SCOPES.filter((scope) => scope !== "im:history"),
    );
    expect(logs.join("\n")).toMatch(/lacks im:history \(direct messages\).*reinstall the app/);
  });

  it.each([
    ["invalid_auth", /invalid_auth.*Bot User OAuth Token/],
    ["account_inactive", /account_inactive.*reinstall the app/],
    ["token_revoked", /token_revoked.*Install to Workspace/],
  ])("%s at start is fatal with the fix, auth.test called once", async (code, fix) => {
    const app = fake.addApp({ botName: `bot_${code}` });
    if (code !== "invalid_auth") fake.revoke(app.botToken, code);
    const botToken = code === "invalid_auth" ? "xoxb-wrong" : app.botToken;
    const { started, test } = startAccount(fake, app, slack.state.cleanups, { botToken });
    await expect(started).rejects.toMatchObject({ fatal: true, message: expect.stringMatching(fix) });
    expect(test.status()).toMatchObject({ fatal: true, connected: false });
    await sleep(300);
    expect(fake.calls.filter((call) => call.token === botToken)).toHaveLength(1);
  });

  it("a missing token says where to put it", async () => {
    const app = fake.addApp({ botName: "no_token_bot" });
    const { started } = startAccount(fake, app, slack.state.cleanups, { botToken: undefined });
    await expect(started).rejects.toMatchObject({
      fatal: true,
      message: expect.stringMatching(/channels\.slack\.botToken/),
    });
  });

  it("the app uninstalled while running: fatal with the fix, reported once", async () => {
    const { app, test } = await setUp();
    await fake.deliverEvent(app, { type: "app_uninstalled" });
    await test.until(() => test.status().fatal === true);
    expect(test.status().lastError).toMatch(/uninstalled.*reinstall/);
    expect(test.errors).toHaveLength(1);
  });

  it("typing: the assistant status in a thread, else a reaction on the message (removed with the reply)", async () => {
    const { app, grace, dm, general, test, account } = await setUp({ replyInThread: true }, [
      ...FAKE_SLACK_DEFAULT_SCOPES,
      "assistant:write",
    ]);
    const inChannel = await fake.inject(
      app,
      { channel: general.id, user: grace.id, text: `<@${app.botUserId}> go` },
      { mention: true },
    );
    const inDm = await fake.inject(app, { channel: dm.id, user: grace.id, text: "go" });
    await test.until(() => test.received.length === 2);
    await account.sendTyping!(general.id);
    expect(fake.statuses.at(-1)).toMatchObject({
      channel_id: general.id,
      thread_ts: inChannel.ts,
      status: "is thinking…",
    });
    await account.sendTyping!(dm.id);
    await account.sendTyping!(dm.id); // again while the agent works: still one reaction
    expect(fake.reactions).toEqual([{ action: "add", channel: dm.id, timestamp: inDm.ts, name: "eyes" }]);
    await account.sendText({ peer: dm.id, text: "done", replyToMessageId: inDm.ts });
    await fake.until(() => fake.reactions.length === 2);
    expect(fake.reactions[1]).toEqual({ action: "remove", channel: dm.id, timestamp: inDm.ts, name: "eyes" });
  });

  it("typing: a scope the app lacks is named once and that indicator is not tried again", async () => {
    const { app, grace, dm, test, account, logs } = await setUp(
      { typingIndicator: "reaction" },
      FAKE_SLACK_DEFAULT_SCOPES.filter((scope) => scope !== "reactions:write"),
    );
    await fake.inject(app, { channel: dm.id, user: grace.id, text: "go" });
    await test.until(() => test.received.length === 1);
    await account.sendTyping!(dm.id);
    await account.sendTyping!(dm.id);
    expect(fake.calls.filter((call) => call.method === "reactions.add" && call.token === app.botToken)).toHaveLength(1);
    expect(logs.filter((line) => line.includes("needs the scope reactions:write"))).toHaveLength(1);
  });

  it("files in: saved with the bot token into the state dir; too large ones listed unsaved; only Slack's hosts get the token", async () => {
    const { app, grace, dm, test } = await setUp({ mediaMaxMb: 0.001 });
    const small = fake.addFile(Buffer.from("quarterly numbers"), {
      name: "q3.txt",
      mimetype: "text/plain",
      teamId: app.teamId,
    });
    const large = fake.addFile(Buffer.alloc(4_000, 1), {
      name: "big.bin",
      mimetype: "application/octet-stream",
      teamId: app.teamId,
    });
    const seen: Array<string | undefined> = [];
    const elsewhere = createServer((request, response) => {
      seen.push(request.headers.authorization);
      response.end("x");
    });
    await new Promise<void>((resolve) => elsewhere.listen(0, "127.0.0.1", resolve));
    slack.state.cleanups.push(() => new Promise<void>((resolve) => elsewhere.close(() => resolve())));
    const foreignUrl = `http://127.0.0.1:${(elsewhere.address() as { port: number }).port}/steal`;
    const foreign = { ...small, id: "F0FOREIGN", url_private: foreignUrl, url_private_download: foreignUrl };
    await fake.inject(app, { channel: dm.id, user: grace.id, text: "see attached", files: [small, large, foreign] });
    await test.until(() => test.received.length === 1);
    const [saved, tooLarge, notSent] = test.received[0]!.media!;
    expect(saved).toMatchObject({ kind: "document", fileName: "q3.txt", mimeType: "text/plain", size: 17 });
    expect(saved!.path!.startsWith(join(test.context.stateDir, "media"))).toBe(true);
    expect(readFileSync(saved!.path!, "utf8")).toBe("quarterly numbers");
    expect(tooLarge).toMatchObject({ fileName: "big.bin", size: 4_000 });
    expect(tooLarge!.path).toBeUndefined();
    expect(notSent!.path).toBeUndefined();
    expect(seen).toEqual([]);
  });

  it("files in: without files:read Slack answers its sign-in page, which is not saved as the file", async () => {
    const { app, grace, dm, test, logs } = await setUp(
      {},
      FAKE_SLACK_DEFAULT_SCOPES.filter((scope) => scope !== "files:read"),
    );
    const file = fake.addFile(Buffer.from("secret"), { name: "a.txt", mimetype: "text/plain", teamId: app.teamId });
    await fake.inject(app, { channel: dm.id, user: grace.id, text: "file", files: [file] });
    await test.until(() => test.received.length === 1);
    expect(test.received[0]!.media?.[0]?.path).toBeUndefined();
    expect(logs.join("\n")).toMatch(/sign-in page.*files:read/);
  });

  it("files out: uploaded with the text as its comment, in the thread", async () => {
    const { general, test, account } = await setUp();
    const path = join(test.context.stateDir, "chart.png");
    writeFileSync(path, Buffer.from("PNG-bytes"));
    const result = await account.sendMedia!({
      peer: general.id,
      text: "**the chart**",
      threadId: "1700000000.000500",
      media: { kind: "photo", path, mimeType: "image/png" },
    });
    expect(result.messageIds).toHaveLength(1);
    expect(fake.uploads.at(-1)).toMatchObject({
      channel_id: general.id,
      thread_ts: "1700000000.000500",
      initial_comment: "*the chart*",
      filename: "chart.png",
    });
    expect(fake.uploads.at(-1)!.content.toString()).toBe("PNG-bytes");
  });

  it("probe answers with the team, the bot and the socket", async () => {
    const { account } = await setUp();
    expect(await account.probe!()).toEqual({
      ok: true,
      detail: "socket open (1 socket), Fakeworks @team_bot, 0 reconnects",
    });
  });
});
