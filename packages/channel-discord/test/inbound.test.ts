import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { ada, grace, sleep, useFakeDiscord } from "./helpers.js";

const discord = useFakeDiscord();

describe("discord inbound", () => {
  it("a DM arrives as direct, from the DM channel, with the sender's display name", async () => {
    const { token, test } = await discord.started();
    const sent = discord.fake.dm(token, ada, "hello bot");
    await test.until(() => test.received.length === 1);
    expect(test.received[0]).toMatchObject({
      chatType: "direct",
      peer: discord.fake.dmChannel(token, ada.id),
      sender: { id: ada.id, name: "Ada Lovelace", username: "ada" },
      text: "hello bot",
      wasMentioned: false,
      messageId: sent.id,
    });
    expect(test.received[0]!.threadId).toBeUndefined();
    expect(Math.abs(test.received[0]!.timestamp - Date.now())).toBeLessThan(5_000);
  });

  it("guild messages: plain, a mention of the bot, of its role, a reply to the bot; the text shows names, not ids", async () => {
    const { token, bot, guild, test } = await discord.started();
    const general = guild.channels.general!;
    discord.fake.inject(token, { channelId: general, author: ada, content: "lunch at noon?" });
    discord.fake.inject(token, {
      channelId: general,
      author: ada,
      content: `<@${bot.user.id}> did I ask about lunch?`,
      mentions: [bot.user],
    });
    discord.fake.inject(token, {
      channelId: general,
      author: grace,
      content: `<@&${guild.botRoleId}> ping the role`,
      mentionRoles: [guild.botRoleId],
    });
    discord.fake.inject(token, {
      channelId: general,
      author: grace,
      content: "answering you",
      replyTo: { id: "1200000000000000000", author: bot.user, content: "earlier" },
    });
    discord.fake.inject(token, {
      channelId: general,
      author: grace,
      content: "answering Ada",
      replyTo: { id: "1200000000000000001", author: ada, content: "hers" },
    });
    await test.until(() => test.received.length === 5);
    const [plain, mention, role, replyToBot, replyToAda] = test.received;
    expect(plain).toMatchObject({ chatType: "group", peer: general, wasMentioned: false, text: "lunch at noon?" });
    expect(mention).toMatchObject({ wasMentioned: true, text: "@gw_test_bot did I ask about lunch?" });
    expect(role).toMatchObject({ wasMentioned: true, text: "@gw_test_bot ping the role" });
    expect(replyToBot).toMatchObject({
      wasMentioned: true,
      replyTo: { messageId: "1200000000000000000", senderId: bot.user.id, isFromBot: true },
    });
    expect(replyToAda).toMatchObject({ wasMentioned: false, replyTo: { senderId: ada.id, isFromBot: false } });
  });

  it("threads and forum posts arrive under their parent channel, with the thread as threadId", async () => {
    const { token, guild, test } = await discord.started();
    const thread = discord.fake.addThread(token, guild.channels.general!, "planning");
    const post = discord.fake.addThread(token, guild.channels.help!, "how do I…");
    discord.fake.inject(token, { channelId: thread, author: ada, content: "in the thread" });
    discord.fake.inject(token, { channelId: post, author: grace, content: "in the forum post" });
    await test.until(() => test.received.length === 2);
    expect(test.received[0]).toMatchObject({ chatType: "thread", peer: guild.channels.general, threadId: thread });
    expect(test.received[1]).toMatchObject({ chatType: "thread", peer: guild.channels.help, threadId: post });
  });

  it("ignores the bot's own messages (Discord echoes them) and other bots unless allowBots", async () => {
    const { token, guild, test, account } = await discord.started();
    const other = { id: "9999", username: "otherbot", bot: true };
    await account.sendText({ peer: guild.channels.general!, text: "my own message" });
    discord.fake.inject(token, { channelId: guild.channels.general!, author: other, content: "beep" });
    discord.fake.inject(token, { channelId: guild.channels.general!, author: ada, content: "a person" });
    await test.until(() => test.received.length === 1);
    await sleep(200);
    expect(test.received.map((message) => message.text)).toEqual(["a person"]);
    const open = await discord.started({ allowBots: true }, { username: "open_bot" });
    discord.fake.inject(open.token, { channelId: open.guild.channels.general!, author: other, content: "beep" });
    await open.test.until(() => open.test.received.length === 1);
    expect(open.test.received[0]).toMatchObject({ text: "beep", sender: { id: "9999" } });
  });

  it("attachments are downloaded into the state dir; one over mediaMaxMb is listed without a path", async () => {
    const { token, test } = await discord.started({ mediaMaxMb: 0.001 });
    const small = discord.fake.addAttachment(Buffer.from("%PDF-1.4 small"), "report.pdf", "application/pdf");
    const photo = discord.fake.addAttachment(Buffer.from("img"), "cat.png", "image/png");
    const large = discord.fake.addAttachment(Buffer.alloc(5_000, 1), "big video.mp4", "video/mp4");
    discord.fake.dm(token, ada, "see attached", { attachments: [small, photo, large] });
    await test.until(() => test.received.length === 1);
    const [pdf, png, mp4] = test.received[0]!.media!;
    expect(pdf).toMatchObject({ kind: "document", fileName: "report.pdf", mimeType: "application/pdf", size: 14 });
    expect(pdf!.path!.startsWith(test.context.stateDir)).toBe(true);
    expect(readFileSync(pdf!.path!, "utf8")).toBe("%PDF-1.4 small");
    expect(png).toMatchObject({ kind: "photo", fileName: "cat.png" });
    expect(mp4).toMatchObject({ kind: "video", fileName: "big video.mp4", size: 5_000 });
    expect(mp4!.path).toBeUndefined();
    // a message that is only a file still reaches the agent
    discord.fake.dm(token, ada, "", { attachments: [photo] });
    await test.until(() => test.received.length === 2);
    expect(test.received[1]).toMatchObject({ text: "", media: [{ kind: "photo" }] });
  });

  it("guilds: only listed guilds and channels, and only the users or roles listed there", async () => {
    const { token, guild, test } = await discord.started(
      ({ guild }) => ({
        guilds: {
          [guild.id]: {
            users: ["@Ada"],
            channels: { [guild.channels.general!]: {}, [guild.channels.random!]: { roles: ["7777"] } },
          },
        },
      }),
      { username: "guarded_bot" },
    );
    const outside = discord.fake.addGuild(token, { name: "Elsewhere", channels: ["lobby"] });
    const thread = discord.fake.addThread(token, guild.channels.general!, "t");
    discord.fake.inject(token, { channelId: outside.channels.lobby!, author: ada, content: "other guild" });
    discord.fake.inject(token, { channelId: guild.channels.general!, author: grace, content: "grace in general" });
    discord.fake.inject(token, { channelId: guild.channels.random!, author: ada, content: "ada in random" });
    discord.fake.inject(token, { channelId: guild.channels.general!, author: ada, content: "ada in general" });
    discord.fake.inject(token, { channelId: thread, author: ada, content: "ada in a thread of general" });
    discord.fake.dm(token, grace, "DMs are not guild business");
    await test.until(() => test.received.length === 3);
    await sleep(200);
    expect(test.received.map((message) => message.text).sort()).toEqual([
      "DMs are not guild business",
      "ada in a thread of general",
      "ada in general",
    ]);
  });

  it("several bots run side by side", async () => {
    const one = await discord.started({}, { username: "bot_one" });
    const two = await discord.started({}, { username: "bot_two" });
    discord.fake.dm(one.token, ada, "to one");
    discord.fake.dm(two.token, ada, "to two");
    await one.test.until(() => one.test.received.length === 1);
    await two.test.until(() => two.test.received.length === 1);
    expect(one.test.received[0]!.text).toBe("to one");
    expect(two.test.received[0]!.text).toBe("to two");
  });
});
