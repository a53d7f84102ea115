import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { ChannelPlatformError } from "@gateway/plugin-sdk";
import { afterEach, describe, expect, it } from "vitest";
import { ada, useFakeDiscord } from "./helpers.js";

const discord = useFakeDiscord();
const messageCalls = (token: string) =>
  discord.fake.calls.filter(
    (call) => call.token === token && call.method === "POST" && call.path.endsWith("/messages"),
  );

afterEach(() => discord.fake.setMessageRateLimit(5, 5_000));

describe("discord outbound", () => {
  it("a 5,000-character reply goes out in three ordered chunks of at most 2,000, its code block in one piece", async () => {
    const { token, account } = await discord.started();
    const peer = discord.fake.dmChannel(token, ada.id);
    const words = (from: number, count: number) =>
      Array.from({ length: count }, (_, index) => `w${String(from + index).padStart(4, "0")}`).join(" ");
    const code = [
      "```ts",
      ...Array.from({ length: 20 }, (_, index) => `const value${index} = ${index} * 2; // x`),
      "```",
    ];
    const block = code.join("\n");
    const text = `${words(0, 280)}\n\n${block}\n\n${words(280, 455)}`;
    expect(text.length).toBeGreaterThan(4_900);
    expect(text.length).toBeLessThan(5_100);
    const result = await account.sendText({ peer, text });
    const chunks = discord.fake.sent(token).map((message) => message.content);
    expect(chunks).toHaveLength(3);
    expect(result.messageIds).toEqual(discord.fake.sent(token).map((message) => message.id));
    for (const chunk of chunks) expect(chunk.length).toBeLessThanOrEqual(2_000);
    expect(chunks.filter((chunk) => chunk.includes("```"))).toHaveLength(1);
    expect(chunks.some((chunk) => chunk.includes(block))).toBe(true);
    expect(chunks.join(" ").split(/\s+/)).toEqual(text.split(/\s+/)); // nothing lost, nothing reordered
  });

  it("markdown is passed through as written (Discord renders it)", async () => {
    const { token, account } = await discord.started();
    const peer = discord.fake.dmChannel(token, ada.id);
    await account.sendText({ peer, text: "**Done**: `a < b` and *more* ~~less~~\n> quoted" });
    expect(discord.fake.sent(token).at(-1)!.content).toBe("**Done**: `a < b` and *more* ~~less~~\n> quoted");
    const body = messageCalls(token).at(-1)!.body as { allowed_mentions: unknown };
    expect(body.allowed_mentions).toEqual({ parse: ["users"], replied_user: true });
  });

  it("a reply goes to the thread, the first chunk referencing the message; typing shows in the thread", async () => {
    const { token, guild, account, test } = await discord.started();
    const thread = discord.fake.addThread(token, guild.channels.general!, "planning");
    const question = discord.fake.inject(token, { channelId: thread, author: ada, content: "question" });
    await test.until(() => test.received.length === 1);
    const inbound = test.received[0]!;
    await account.sendTyping(inbound.peer, inbound.threadId);
    await account.sendText({
      peer: inbound.peer,
      ...(inbound.threadId ? { threadId: inbound.threadId } : {}),
      replyToMessageId: inbound.messageId,
      text: "y".repeat(2_500),
    });
    const [first, second] = discord.fake.sent(token);
    expect(first).toMatchObject({ channel_id: thread, message_reference: { message_id: question.id } });
    expect(second!.channel_id).toBe(thread);
    expect(second!.message_reference).toBeUndefined();
    expect(discord.fake.typing(token)).toEqual([thread]);
  });

  it("sendMedia uploads the file with the caption", async () => {
    const { token, account, test } = await discord.started();
    const peer = discord.fake.dmChannel(token, ada.id);
    const path = join(test.context.stateDir, "chart.png");
    writeFileSync(path, Buffer.from([0x89, 0x50, 0x4e, 0x47, 1, 2, 3]));
    const result = await account.sendMedia({
      peer,
      text: "the chart",
      media: { kind: "photo", path, mimeType: "image/png" },
    });
    const sent = discord.fake.sent(token).at(-1)!;
    expect(result.messageId).toBe(sent.id);
    expect(sent.content).toBe("the chart");
    expect(sent.attachments).toHaveLength(1);
    expect(sent.attachments[0]).toMatchObject({ filename: "chart.png", content_type: "image/png", size: 7 });
    expect([...sent.attachments[0]!.data!]).toEqual([0x89, 0x50, 0x4e, 0x47, 1, 2, 3]);
    await expect(
      account.sendMedia({
        peer,
        text: "",
        media: { kind: "document", path: join(test.context.stateDir, "missing.pdf") },
      }),
    ).rejects.toMatchObject({ fatal: true, message: expect.stringMatching(/cannot read .*missing\.pdf/) });
  });

  it("user:<id> opens the user's DM channel once and posts there", async () => {
    const { token, account } = await discord.started();
    await account.sendText({ peer: `user:${ada.id}`, text: "first" });
    await account.sendText({ peer: `user:${ada.id}`, text: "second" });
    const dm = discord.fake.dmChannel(token, ada.id);
    expect(discord.fake.sent(token).map((message) => [message.channel_id, message.content])).toEqual([
      [dm, "first"],
      [dm, "second"],
    ]);
    expect(
      discord.fake.calls.filter((call) => call.token === token && call.path === "/users/@me/channels"),
    ).toHaveLength(1);
  });

  it("an unknown channel is a platform error saying so, not retried", async () => {
    const { token, account } = await discord.started();
    const failure = await account.sendText({ peer: "123456789012345678", text: "hello?" }).catch((error) => error);
    expect(ChannelPlatformError.isInstance(failure)).toBe(true);
    expect(failure).toMatchObject({ status: 404, fatal: true, message: expect.stringMatching(/Unknown Channel/) });
    expect(messageCalls(token)).toHaveLength(1);
  });

  it("a 429 storm: every message waits the retry_after Discord asked for, nothing is lost, the order is kept", async () => {
    const { token, account } = await discord.started();
    const peer = discord.fake.dmChannel(token, ada.id);
    discord.fake.setMessageRateLimit(50, 1_000);
    discord.fake.rateLimitNext(4, { retryAfterMs: 300 });
    const texts = Array.from({ length: 6 }, (_, index) => `message ${index}`);
    await Promise.all(texts.map((text) => account.sendText({ peer, text })));
    expect(discord.fake.sent(token).map((message) => message.content)).toEqual(texts);
    const calls = messageCalls(token);
    const limited = calls.filter((call) => call.status === 429);
    expect(limited).toHaveLength(4);
    for (const call of limited) {
      const next = calls[calls.indexOf(call) + 1]!;
      expect(next.at - call.at).toBeGreaterThanOrEqual(290);
    }
  });

  it("the per-channel bucket: discord.js follows the rate-limit headers, so Discord never has to answer 429", async () => {
    const { token, account } = await discord.started();
    discord.fake.setMessageRateLimit(3, 600);
    const peer = discord.fake.dmChannel(token, ada.id);
    const started = Date.now();
    const texts = Array.from({ length: 8 }, (_, index) => `burst ${index}`);
    await Promise.all(texts.map((text) => account.sendText({ peer, text })));
    expect(discord.fake.sent(token).map((message) => message.content)).toEqual(texts);
    expect(messageCalls(token).filter((call) => call.status === 429)).toHaveLength(0);
    expect(Date.now() - started).toBeGreaterThanOrEqual(1_100); // 8 messages, 3 per 600 ms: two waits for a reset
  });
});
