import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type FakeTelegram, startFakeTelegram } from "@gateway/fakes";
import { eventually, settle } from "@gateway/vitest-preset/wait";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  ensureBuilt,
  freePort,
  type GatewayProcess,
  cli as gatewayCli,
  startGateway,
} from "./support/gateway-process.js";

let fake: FakeTelegram;
let gateway: GatewayProcess;
let stateDir = "";
let botToken = "";
let hookToken = "";
const BAD_TOKEN = "999:this-token-was-revoked";
const grace = { id: 501, is_bot: false, first_name: "Grace", last_name: "Hopper", username: "grace" };
const group = { id: -100555, type: "supergroup" as const, title: "Team" };

const cli = (args: string[]) => gatewayCli(stateDir, args);

/** Messages the bot sent to a chat. */
const sentTo = (chatId: number, token = botToken) =>
  fake.sent(token).filter((message) => String(message.chat_id) === String(chatId));

/** A Telegram account as `channels status --json` shows it. */
async function accountStatus(accountId = "default") {
  const status = JSON.parse((await cli(["channels", "status", "--json"])).stdout);
  return status.channelAccounts.telegram.find((entry: { accountId: string }) => entry.accountId === accountId);
}

beforeAll(async () => {
  ensureBuilt();
  fake = await startFakeTelegram();
  botToken = fake.addBot("gw_e2e_bot");
  hookToken = fake.addBot("gw_hook_bot");
  stateDir = mkdtempSync(join(tmpdir(), "gateway-telegram-"));
  const port = (await freePort()) as number;
  writeFileSync(
    join(stateDir, "gateway.json5"),
    `{
      gateway: { auth: { mode: "token", token: "telegram-e2e-token-0123456789" } },
      channels: {
        telegram: {
          apiRoot: "${fake.apiRoot}",
          pollTimeoutSeconds: 1,
          debounceMs: 300,
          groups: { "-100555": {} },
          accounts: {
            default: { botToken: "${botToken}" },
            hooked: {
              botToken: "${hookToken}",
              mode: "webhook",
              webhook: { url: "http://127.0.0.1:${port}/channels/telegram/hooked/webhook" },
            },
            broken: { botToken: "${BAD_TOKEN}" },
          },
        },
      },
    }`,
  );
  gateway = await startGateway(stateDir, {}, [], port);
  await fake
    .until(() => fake.calls.some((call) => call.token === botToken && call.method === "getUpdates"), 10_000)
    .catch((error: Error) => {
      throw new Error(`${error.message}; the gateway logged:\n${gateway?.output()}`);
    });
}, 60_000);

afterAll(async () => {
  await gateway?.stop();
  await fake?.close();
  rmSync(stateDir, { recursive: true, force: true });
});

describe("Telegram through a running gateway", () => {
  it("channels status: the bots are connected, the bad token is fatal with the fix, and not retried", async () => {
    const status = await cli(["channels", "status"]);
    expect(status.stdout).toMatch(/telegram:default\s+connected\s+polling/);
    expect(status.stdout).toMatch(/telegram:hooked\s+connected\s+webhook/);
    expect(status.stdout).toMatch(/telegram:broken\s+fatal\s+.*401 Unauthorized.*@BotFather/);
    expect(status.code).toBe(1);
    const probed = await cli(["channels", "status", "--probe"]);
    expect(probed.stdout).toMatch(/telegram:default\s+connected\s+polling\s+.*probe ok/);
    // health is a snapshot refreshed within 250 ms of a change
    await eventually(
      async () => {
        const health = JSON.parse((await cli(["health", "--json"])).stdout);
        expect(health.channels.telegram.accounts.default).toMatchObject({ connected: true, healthState: "connected" });
        expect(health.channels.telegram.accounts.broken).toMatchObject({ connected: false, healthState: "fatal" });
      },
      { timeoutMs: 10_000 },
    );
    const badCalls = () => fake.calls.filter((call) => call.token === BAD_TOKEN);
    expect(badCalls()).toHaveLength(1);
    // Negative window, from the refused call: a retry would come after the gateway's restart backoff (1 s ±20 %).
    await settle(badCalls()[0]!.at + 1_500 - Date.now());
    expect(badCalls()).toHaveLength(1);
  });

  it("an unknown sender gets a code; approved with the CLI, their next message reaches the agent, answered in the chat", async () => {
    await fake.inject(botToken, { chat: { id: 501, type: "private" }, from: grace, text: "hi, who are you?" });
    await fake.until(() => sentTo(501).length === 1, 10_000);
    const code = /pairing code: ([A-Z2-9]{8})/.exec(sentTo(501)[0]!.text)?.[1];
    expect(code).toBeDefined();
    const list = await cli(["pairing", "list", "telegram"]);
    expect(list.stdout).toMatch(new RegExp(`${code}\\s+telegram:default\\s+Grace Hopper \\(501\\)`));
    const approve = await cli(["pairing", "approve", "telegram", code!.toLowerCase()]);
    expect(approve.stderr).toBe("");
    expect(approve.stdout).toMatch(/✔ approved Grace Hopper \(501\) on telegram:default/);
    const { message_id } = await fake.inject(botToken, {
      chat: { id: 501, type: "private" },
      from: grace,
      text: "hello gateway",
    });
    await fake.until(() => sentTo(501).length === 2, 10_000);
    const reply = sentTo(501)[1]!;
    expect(reply.text.endsWith("hello gateway")).toBe(true);
    expect(reply.reply_to_message_id).toBe(message_id);
    expect(
      fake.calls.some(
        (call) => call.token === botToken && call.method === "sendChatAction" && String(call.params.chat_id) === "501",
      ),
    ).toBe(true);
    const sessions = await cli(["sessions", "list"]);
    expect(sessions.stdout).toMatch(/agent:main:main\s+.*telegram:501/);
  }, 30_000);

  it("a document sent to the bot is saved in the state dir and reaches the agent as a file reference", async () => {
    const file = fake.addFile(Buffer.from("quarterly numbers"), "documents/file_9.txt");
    const before = sentTo(501).length;
    await fake.inject(botToken, {
      chat: { id: 501, type: "private" },
      from: grace,
      caption: "what is in this file?",
      document: { ...file, file_name: "q3.txt", mime_type: "text/plain" },
    });
    await fake.until(() => sentTo(501).length === before + 1, 10_000);
    const reply = sentTo(501).at(-1)!.text;
    const path = /\[document "q3\.txt" \(text\/plain\): (\S+)\]/.exec(reply)?.[1];
    expect(reply).toContain("what is in this file?");
    expect(path?.startsWith(join(stateDir, "channels", "telegram", "default", "media"))).toBe(true);
    expect(readFileSync(path!, "utf8")).toBe("quarterly numbers");
  }, 20_000);

  it("in a group, a message without a mention is not answered; with a mention it is, with the earlier one as context", async () => {
    await fake.inject(botToken, { chat: group, from: grace, text: "lunch at noon, everyone?" });
    const question = await fake.inject(botToken, {
      chat: group,
      from: grace,
      text: "@gw_e2e_bot did I ask about lunch?",
      entities: [{ type: "mention", offset: 0, length: 11 }],
    });
    await fake.until(() => sentTo(group.id).length === 1, 10_000);
    // No wait for "not answered": the one reply answers the mention and carries the first message as earlier
    // context — had the first been answered (or run with the second as one burst), this reply would differ.
    const [reply] = sentTo(group.id);
    expect(reply!.reply_to_message_id).toBe(question.message_id);
    expect(reply!.text).toContain(
      "[Earlier messages in this chat, not addressed to you]\nGrace Hopper: lunch at noon, everyone?\n[Now]\nGrace Hopper: @gw_e2e_bot did I ask about lunch?",
    );
  }, 20_000);

  it("a reply just over 4,096 characters arrives as two ordered chunks of at most 4,096", async () => {
    // 593 words of 6 characters and a space: 4,150 characters, echoed back as one reply.
    const text = Array.from({ length: 593 }, (_, index) => `w${String(index).padStart(5, "0")}`).join(" ");
    expect(text.length).toBe(4_150);
    const before = sentTo(501).length;
    const startedAt = Date.now();
    const asked = await fake.inject(botToken, { chat: { id: 501, type: "private" }, from: grace, text });
    await fake.until(() => sentTo(501).length >= before + 2, 20_000);
    // The reply is complete once the account's last send ended after the second chunk went out (a third would be
    // paced a second later, and the send would not have ended yet): then two is the final count, no waiting.
    const secondChunkAt = fake.calls.filter(
      (call) =>
        call.token === botToken &&
        call.method === "sendMessage" &&
        String(call.params.chat_id) === "501" &&
        call.at >= startedAt,
    )[1]!.at;
    await eventually(async () => expect((await accountStatus()).lastOutboundAt).toBeGreaterThanOrEqual(secondChunkAt), {
      timeoutMs: 10_000,
    });
    const chunks = sentTo(501).slice(before);
    expect(chunks).toHaveLength(2);
    for (const chunk of chunks) expect(chunk.text.length).toBeLessThanOrEqual(4_096);
    expect(`${chunks[0]!.text} ${chunks[1]!.text}`).toBe(text); // cut at a space, in order, nothing lost
    expect(chunks[0]!.reply_to_message_id).toBe(asked.message_id);
    expect(chunks[1]!.reply_to_message_id).toBeUndefined();
  }, 30_000);

  it("the Bot API goes away and comes back: the account reconnects and messages flow again", async () => {
    await fake.goDown();
    await eventually(
      async () => expect(await accountStatus()).toMatchObject({ connected: false, healthState: "reconnecting" }),
      { timeoutMs: 10_000 },
    );
    await fake.comeBack();
    const before = sentTo(501).length;
    await fake.inject(botToken, { chat: { id: 501, type: "private" }, from: grace, text: "are you back?" });
    await fake.until(() => sentTo(501).length === before + 1, 20_000);
    expect(sentTo(501).at(-1)!.text.endsWith("are you back?")).toBe(true);
    expect(await accountStatus()).toMatchObject({ connected: true, healthState: "connected" });
  }, 40_000);

  it("webhook mode: updates posted to the gateway's port with the secret are handled; a forged one is refused", async () => {
    const forged = await fetch(
      `${gateway.output().match(/http:\/\/127\.0\.0\.1:\d+/)![0]}/channels/telegram/hooked/webhook`,
      {
        method: "POST",
        headers: { "content-type": "application/json", "x-telegram-bot-api-secret-token": "guess" },
        body: JSON.stringify({ update_id: 1 }),
      },
    );
    expect(forged.status).toBe(401);
    await fake.inject(hookToken, {
      chat: { id: 777, type: "private" },
      from: { ...grace, id: 777 },
      text: "via webhook",
    });
    await fake.until(() => sentTo(777, hookToken).length === 1, 10_000);
    expect(sentTo(777, hookToken)[0]!.text).toMatch(/pairing code: [A-Z2-9]{8}/);
  }, 20_000);

  it("agent --deliver and cron announcements (to a chat, and to the last one) arrive through the bot", async () => {
    const agent = await cli(["agent", "--message", "deliver me", "--deliver", "--channel", "telegram", "--to", "501"]);
    expect(agent.stderr).toBe("");
    await fake.until(() => sentTo(501).at(-1)?.text.endsWith("deliver me") === true, 10_000);
    const addJob = async (name: string, extra: string[]) => {
      const added = await cli([
        "cron",
        "add",
        "--name",
        name,
        "--every",
        "1h",
        "--message",
        name,
        "--deliver",
        "announce",
        ...extra,
        "--json",
      ]);
      expect(added.stderr).toBe("");
      return JSON.parse(added.stdout).id as string;
    };
    const toChat = await addJob("announce to 501", ["--channel", "telegram", "--to", "501"]);
    expect((await cli(["cron", "run", toChat])).stderr).toBe("");
    await fake.until(() => sentTo(501).at(-1)?.text.endsWith("announce to 501") === true, 10_000);
    const toLast = await addJob("announce to the last chat", []);
    expect((await cli(["cron", "run", toLast])).stderr).toBe("");
    await fake.until(() => sentTo(501).at(-1)?.text.endsWith("announce to the last chat") === true, 10_000);
  }, 30_000);

  it("a config edit with a mistake is refused with its path; the running bots are untouched", async () => {
    const starts = () => fake.calls.filter((call) => call.token === botToken && call.method === "getMe").length;
    const before = starts();
    const edit = await cli([
      "config",
      "patch",
      "{ channels: { telegram: { accounts: { default: { botTokn: 'x' } } } } }",
    ]);
    expect(edit.code).toBe(1);
    expect(edit.stderr).toMatch(
      /the config was refused \(nothing changed\): invalid channel config: channels\.telegram\.accounts\.default\.botTokn: unknown setting for Telegram/,
    );
    const status = await cli(["channels", "status"]);
    expect(status.stdout).toMatch(/telegram:default\s+connected/);
    expect(starts()).toBe(before);
  });

  it("send delivers to a chat through the CLI", async () => {
    const sent = await cli(["send", "--channel", "telegram", "--to", "501", "reminder: stand-up at 10"]);
    expect(sent.stderr).toBe("");
    expect(sent.stdout).toMatch(/✔ sent to telegram:default 501 \(1 message\)/);
    expect(sentTo(501).at(-1)!.text).toBe("reminder: stand-up at 10");
    const empty = await cli(["call", "send", "--params", "{ to: '501', channel: 'telegram', idempotencyKey: 'k-1' }"]);
    expect(empty.code).toBe(1);
    expect(empty.stderr).toMatch(/send needs message \(the text to send\) \[INVALID_REQUEST\]/);
    const nowhere = await cli(["send", "--channel", "discord", "--to", "1", "hi"]);
    expect(nowhere.stderr).toMatch(/channel "discord" is not configured \(configured: telegram\)/);
  });
});
