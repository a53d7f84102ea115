import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type FakeDiscord, type FakeDiscordBot, type FakeDiscordGuild, startFakeDiscord } from "@gateway/fakes";
import { eventually, settle } from "@gateway/vitest-preset/wait";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  ensureBuilt,
  freePort,
  type GatewayProcess,
  cli as gatewayCli,
  startGateway,
} from "./support/gateway-process.js";

let fake: FakeDiscord;
let gateway: GatewayProcess;
let stateDir = "";
let bot: FakeDiscordBot;
let revoked: FakeDiscordBot;
let noIntent: FakeDiscordBot;
let guild: FakeDiscordGuild;
let thread = "";
let dm = "";
const grace = { id: "501", username: "grace", global_name: "Grace Hopper" };

const cli = (args: string[]) => gatewayCli(stateDir, args);

/** Messages the bot posted in a channel. */
const sentTo = (channelId: string) => fake.sent(bot.token).filter((message) => message.channel_id === channelId);
/** When the bot's `index`-th successful message post to a channel (counting from `since`) reached the fake. */
const postedAt = (channelId: string, since: number, index: number) =>
  fake.calls.filter(
    (call) =>
      call.token === bot.token &&
      call.method === "POST" &&
      call.path === `/channels/${channelId}/messages` &&
      call.status !== 429 &&
      call.at >= since,
  )[index]?.at ?? Number.POSITIVE_INFINITY;
/**
 * Resolve once the account's last send ended after `at`: the reply whose last chunk was posted at `at` is complete,
 * so the chunks seen are all there will be (no "nothing more comes" wait).
 */
const sendEndedAfter = (at: number) =>
  eventually(async () => expect((await connected()).lastOutboundAt).toBeGreaterThanOrEqual(at), { timeoutMs: 10_000 });
const connected = async () => {
  const status = JSON.parse((await cli(["channels", "status", "--json"])).stdout);
  return status.channelAccounts.discord.find((entry: { accountId: string }) => entry.accountId === "default");
};

beforeAll(async () => {
  ensureBuilt("channel-discord.js");
  fake = await startFakeDiscord({ heartbeatIntervalMs: 1_000 });
  bot = fake.addBot("gw_e2e");
  revoked = fake.addBot("gw_revoked");
  fake.closeOnIdentify(revoked.token, 4004);
  noIntent = fake.addBot("gw_no_intent", { messageContentIntent: false });
  guild = fake.addGuild(bot.token, { name: "Team", channels: ["general", { name: "help", type: "forum" }] });
  thread = fake.addThread(bot.token, guild.channels.general!, "planning");
  dm = fake.dmChannel(bot.token, grace.id);
  stateDir = mkdtempSync(join(tmpdir(), "gateway-discord-"));
  const port = (await freePort()) as number;
  writeFileSync(
    join(stateDir, "gateway.json5"),
    `{
      gateway: { auth: { mode: "token", token: "discord-e2e-token-0123456789" } },
      channels: {
        discord: {
          apiRoot: "${fake.apiRoot}",
          debounceMs: 300,
          groups: { "${guild.channels.general}": {}, "${guild.channels.help}": {} },
          mentionPatterns: ["\\\\bjarvis\\\\b"],
          reconnect: { baseMs: 200, maxMs: 2000, stableAfterMs: 500 },
          accounts: {
            default: { token: "${bot.token}" },
            revoked: { token: "${revoked.token}" },
            nointent: { token: "${noIntent.token}" },
          },
        },
      },
    }`,
  );
  gateway = await startGateway(stateDir, {}, [], port);
  await fake
    .until(() => fake.gatewayLog.some((entry) => entry.kind === "ready" && entry.token === bot.token), 15_000)
    .catch((error: Error) => {
      throw new Error(`${error.message}; the gateway logged:\n${gateway?.output()}`);
    });
}, 60_000);

afterAll(async () => {
  await gateway?.stop();
  await fake?.close();
  rmSync(stateDir, { recursive: true, force: true });
});

describe("Discord through a running gateway", () => {
  it("channels status: the bot is connected with its details; 4004 and 4014 are fatal with the fix, one IDENTIFY each", async () => {
    const status = await eventually(
      async () => {
        const shown = await cli(["channels", "status"]);
        expect(shown.stdout).toMatch(/discord:default\s+connected/);
        return shown;
      },
      { timeoutMs: 10_000 },
    );
    expect(status.stdout).toMatch(/discord:default\s+connected\s+@gw_e2e, 1 guild, gateway ready/);
    expect(status.stdout).toMatch(/discord:revoked\s+fatal\s+.*4004 Authentication failed.*Reset Token/);
    expect(status.stdout).toMatch(/discord:nointent\s+fatal\s+.*4014 Disallowed intents.*"Message Content Intent"/);
    expect(status.code).toBe(1);
    const probed = JSON.parse((await cli(["channels", "status", "--probe", "--json"])).stdout);
    const account = probed.channelAccounts.discord.find(
      (entry: { accountId: string }) => entry.accountId === "default",
    );
    expect(account.probe).toMatchObject({
      ok: true,
      bot: { id: bot.user.id, username: "gw_e2e" },
      guilds: 1,
      gateway: "ready",
      reconnects: 0,
      identifiesToday: 1,
    });
    expect(fake.identifies(revoked.token)).toBe(1);
    expect(fake.identifies(noIntent.token)).toBe(1);
    // Negative window, from the refused IDENTIFYs: a retry would come after the reconnect backoff (200 ms) or the
    // gateway's restart backoff (1 s ±20 %).
    const refusedAt = Math.max(
      ...fake.gatewayLog
        .filter(
          (entry) => entry.kind === "identify" && (entry.token === revoked.token || entry.token === noIntent.token),
        )
        .map((entry) => entry.at),
    );
    await settle(refusedAt + 1_500 - Date.now());
    expect(fake.identifies(revoked.token)).toBe(1);
    expect(fake.identifies(noIntent.token)).toBe(1);
  });

  it("an unknown DM sender gets a pairing code; approved with the CLI, their next DM reaches the agent, answered in the DM", async () => {
    fake.dm(bot.token, grace, "hi, who are you?");
    await fake.until(() => sentTo(dm).length === 1, 10_000);
    const code = /pairing code: ([A-Z2-9]{8})/.exec(sentTo(dm)[0]!.content)?.[1];
    expect(code).toBeDefined();
    const list = await cli(["pairing", "list", "discord"]);
    expect(list.stdout).toMatch(new RegExp(`${code}\\s+discord:default\\s+Grace Hopper \\(501\\)`));
    const approve = await cli(["pairing", "approve", "discord", code!.toLowerCase()]);
    expect(approve.stderr).toBe("");
    expect(approve.stdout).toMatch(/✔ approved Grace Hopper \(501\) on discord:default/);
    const hello = fake.dm(bot.token, grace, "hello gateway");
    await fake.until(() => sentTo(dm).length === 2, 10_000);
    const reply = sentTo(dm)[1]!;
    expect(reply.content.endsWith("hello gateway")).toBe(true);
    expect(reply.message_reference?.message_id).toBe(hello.id);
    expect(fake.typing(bot.token)).toContain(dm);
  }, 30_000);

  it("in a guild channel, no mention: not answered, kept as context; a mention is answered there, replying to it", async () => {
    const general = guild.channels.general!;
    fake.inject(bot.token, { channelId: general, author: grace, content: "lunch at noon, everyone?" });
    const question = fake.inject(bot.token, {
      channelId: general,
      author: grace,
      content: `<@${bot.user.id}> did I ask about lunch?`,
      mentions: [bot.user],
    });
    await fake.until(() => sentTo(general).length === 1, 10_000);
    // No wait for "not answered": the one reply answers the mention and carries the first message as earlier
    // context — had the first been answered (or run with the second as one burst), this reply would differ.
    const reply = sentTo(general)[0]!;
    expect(reply.content).toContain(
      "[Earlier messages in this chat, not addressed to you]\nGrace Hopper: lunch at noon, everyone?\n[Now]\nGrace Hopper: @gw_e2e did I ask about lunch?",
    );
    expect(reply.message_reference?.message_id).toBe(question.id);
  }, 20_000);

  it("a text matching mentionPatterns counts as a mention", async () => {
    const general = guild.channels.general!;
    const before = sentTo(general).length;
    const asked = fake.inject(bot.token, { channelId: general, author: grace, content: "Jarvis, what time is it?" });
    await fake.until(() => sentTo(general).length === before + 1, 10_000);
    expect(sentTo(general).at(-1)).toMatchObject({ message_reference: { message_id: asked.id } });
  }, 20_000);

  it("in a thread and in a forum post, a mention of the bot's role is answered in the thread, replying to it", async () => {
    const inThread = fake.inject(bot.token, {
      channelId: thread,
      author: grace,
      content: `<@&${guild.botRoleId}> what did we plan?`,
      mentionRoles: [guild.botRoleId],
    });
    await fake.until(() => sentTo(thread).length === 1, 10_000);
    expect(sentTo(thread)[0]).toMatchObject({ message_reference: { message_id: inThread.id } });
    expect(sentTo(thread)[0]!.content).toContain("what did we plan?");
    const post = fake.addThread(bot.token, guild.channels.help!, "how do I reset my password?");
    const inPost = fake.inject(bot.token, {
      channelId: post,
      author: grace,
      content: `<@${bot.user.id}> help please`,
      mentions: [bot.user],
    });
    await fake.until(() => sentTo(post).length === 1, 10_000);
    expect(sentTo(post)[0]).toMatchObject({ message_reference: { message_id: inPost.id } });
    expect(sentTo(guild.channels.help!)).toHaveLength(0);
  }, 20_000);

  it("a 5,000-character reply arrives in three ordered chunks of at most 2,000, its code block intact", async () => {
    const words = (from: number, count: number) =>
      Array.from({ length: count }, (_, index) => `w${String(from + index).padStart(4, "0")}`).join(" ");
    const block = [
      "```py",
      ...Array.from({ length: 20 }, (_, index) => `print("line ${index} of the block")`),
      "```",
    ].join("\n");
    const parts = [words(0, 280), block, words(280, 300), words(580, 150)];
    const before = sentTo(dm).length;
    const startedAt = Date.now();
    for (const content of parts) fake.dm(bot.token, grace, content);
    await fake.until(() => sentTo(dm).length >= before + 3, 20_000);
    await sendEndedAfter(postedAt(dm, startedAt, 2));
    const chunks = sentTo(dm)
      .slice(before)
      .map((message) => message.content);
    expect(chunks).toHaveLength(3);
    for (const chunk of chunks) expect(chunk.length).toBeLessThanOrEqual(2_000);
    expect(chunks.join("\n").length).toBeGreaterThan(4_900);
    expect(chunks.filter((chunk) => chunk.includes(block))).toHaveLength(1);
    expect(chunks.join(" ").split(/\s+/)).toEqual(parts.join(" ").split(/\s+/));
  }, 40_000);

  it("the connection drops: the session is RESUMEd (no IDENTIFY) and a DM sent meanwhile is answered", async () => {
    const identifies = fake.identifies(bot.token);
    const resumes = fake.resumes(bot.token);
    const before = sentTo(dm).length;
    fake.drop(bot.token);
    fake.dm(bot.token, grace, "sent while you were away");
    await fake.until(() => sentTo(dm).length === before + 1, 15_000);
    expect(sentTo(dm).at(-1)!.content.endsWith("sent while you were away")).toBe(true);
    expect(fake.resumes(bot.token)).toBe(resumes + 1);
    expect(fake.identifies(bot.token)).toBe(identifies);
    const account = await connected();
    expect(account).toMatchObject({ connected: true, healthState: "connected" });
    expect(account.mode).toMatch(/gateway ready, .*1 reconnect, last close 1006 connection lost/);
  }, 30_000);

  it("the server restarts (sessions lost): RESUME is refused, the bot IDENTIFYs again and messages flow", async () => {
    const identifies = fake.identifies(bot.token);
    const restartedAt = Date.now();
    await fake.restart();
    await fake.until(
      () =>
        fake.gatewayLog.some((entry) => entry.kind === "ready" && entry.token === bot.token && entry.at >= restartedAt),
      15_000,
    );
    const before = sentTo(dm).length;
    fake.dm(bot.token, grace, "are you back?");
    await fake.until(() => sentTo(dm).length === before + 1, 15_000);
    expect(sentTo(dm).at(-1)!.content.endsWith("are you back?")).toBe(true);
    expect(fake.identifies(bot.token)).toBe(identifies + 1);
    expect(fake.identifies(revoked.token)).toBe(1);
  }, 40_000);

  it("a 429 storm: the reply waits what Discord asks, nothing is lost and the chunks stay in order", async () => {
    const words = (from: number, count: number) =>
      Array.from({ length: count }, (_, index) => `s${String(from + index).padStart(4, "0")}`).join(" ");
    const parts = [words(0, 300), words(300, 300), words(600, 150)];
    const before = sentTo(dm).length;
    const callsBefore = fake.calls.length;
    const startedAt = Date.now();
    fake.rateLimitNext(4, { retryAfterMs: 400 });
    for (const content of parts) fake.dm(bot.token, grace, content);
    await fake.until(() => sentTo(dm).length >= before + 3, 20_000);
    await sendEndedAfter(postedAt(dm, startedAt, 2));
    const chunks = sentTo(dm).slice(before);
    expect(chunks).toHaveLength(3);
    expect(
      chunks
        .map((message) => message.content)
        .join(" ")
        .split(/\s+/),
    ).toEqual(parts.join(" ").split(/\s+/));
    const posts = fake.calls
      .slice(callsBefore)
      .filter((call) => call.token === bot.token && call.method === "POST" && call.path === `/channels/${dm}/messages`);
    const limited = posts.filter((call) => call.status === 429);
    expect(limited).toHaveLength(4);
    for (const call of limited) expect(posts[posts.indexOf(call) + 1]!.at - call.at).toBeGreaterThanOrEqual(390);
  }, 40_000);

  it("send delivers to a channel and to a user's DMs through the CLI", async () => {
    const general = guild.channels.general!;
    const sent = await cli(["send", "--channel", "discord", "--to", general, "reminder: stand-up at 10"]);
    expect(sent.stderr).toBe("");
    expect(sent.stdout).toMatch(/✔ sent to discord:default \d+ \(1 message\)/);
    expect(sentTo(general).at(-1)!.content).toBe("reminder: stand-up at 10");
    const direct = await cli(["send", "--channel", "discord", "--to", `user:${grace.id}`, "a private note"]);
    expect(direct.stderr).toBe("");
    expect(sentTo(dm).at(-1)!.content).toBe("a private note");
  });

  it("a config edit with a mistake is refused with its path; the running bot is untouched", async () => {
    const identifies = fake.identifies(bot.token);
    const edit = await cli(["config", "patch", "{ channels: { discord: { accounts: { default: { tokn: 'x' } } } } }"]);
    expect(edit.code).toBe(1);
    expect(edit.stderr).toMatch(/channels\.discord\.accounts\.default\.tokn: unknown setting for Discord/);
    expect((await connected()).connected).toBe(true);
    expect(fake.identifies(bot.token)).toBe(identifies);
  });
});
