// Telegram end to end: the built gateway runs the real grammY against the fake Bot API; the user drives it with the
// CLI. Pairing, groups and mentions, a long reply in chunks, an outage, a bad token, and webhook mode on the
// gateway's own port.
import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { type FakeTelegram, startFakeTelegram } from "@gateway/fakes";
// @ts-expect-error -- a plain .mjs helper of the private vitest preset
import { freePort } from "@gateway/vitest-preset/redis";
// @ts-expect-error -- a plain .mjs helper of the private vitest preset
import { runProcess } from "@gateway/vitest-preset/run-process";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

const appDir = join(dirname(fileURLToPath(import.meta.url)), "..");
const main = join(appDir, "dist", "main.js");
let fake: FakeTelegram;
let gateway: ChildProcess;
let stateDir = "";
let logs = "";
let botToken = "";
let hookToken = "";
const BAD_TOKEN = "999:this-token-was-revoked";
const grace = { id: 501, is_bot: false, first_name: "Grace", last_name: "Hopper", username: "grace" };
const group = { id: -100555, type: "supergroup" as const, title: "Team" };

function cli(args: string[]) {
  return runProcess(process.execPath, [main, ...args, "--state-dir", stateDir], {
    env: { GATEWAY_TOKEN: "", GATEWAY_URL: "" },
  }) as Promise<{ code: number | null; stdout: string; stderr: string }>;
}

/** Messages the bot sent to a chat since `from`. */
const sentTo = (chatId: number, token = botToken) =>
  fake.sent(token).filter((message) => String(message.chat_id) === String(chatId));

beforeAll(async () => {
  if (!existsSync(main))
    spawnSync(process.execPath, [join(appDir, "node_modules", "tsup", "dist", "cli-default.js")], { cwd: appDir });
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
  gateway = spawn(process.execPath, [main, "run", "--port", String(port), "--state-dir", stateDir, "--json-logs"], {
    env: { ...process.env, GATEWAY_TOKEN: "" },
    stdio: ["ignore", "pipe", "pipe"],
  });
  gateway.stderr!.on("data", (chunk) => {
    logs += chunk;
  });
  await new Promise<void>((resolve, reject) => {
    gateway.stdout!.on("data", (chunk) => {
      logs += chunk;
      if (logs.includes("listening on")) resolve();
    });
    gateway.once("exit", (code) => reject(new Error(`gateway exited ${code}: ${logs}`)));
  });
  await fake
    .until(() => fake.calls.some((call) => call.token === botToken && call.method === "getUpdates"), 10_000)
    .catch((error: Error) => {
      throw new Error(`${error.message}; the gateway logged:\n${logs}`);
    });
}, 60_000);

afterAll(async () => {
  gateway?.kill("SIGTERM");
  if (gateway) await new Promise((resolve) => gateway.once("exit", resolve));
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
    let health = JSON.parse((await cli(["health", "--json"])).stdout);
    for (let tries = 0; !health.channels?.telegram?.accounts?.default?.connected && tries < 20; tries++) {
      await new Promise((resolve) => setTimeout(resolve, 100));
      health = JSON.parse((await cli(["health", "--json"])).stdout);
    }
    expect(health.channels.telegram.accounts.default).toMatchObject({ connected: true, healthState: "connected" });
    expect(health.channels.telegram.accounts.broken).toMatchObject({ connected: false, healthState: "fatal" });
    const badCalls = () => fake.calls.filter((call) => call.token === BAD_TOKEN).length;
    const before = badCalls();
    await new Promise((resolve) => setTimeout(resolve, 2_000));
    expect(badCalls()).toBe(before);
    expect(before).toBe(1);
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
    await new Promise((resolve) => setTimeout(resolve, 1_500));
    expect(sentTo(group.id)).toHaveLength(0);
    await fake.inject(botToken, {
      chat: group,
      from: grace,
      text: "@gw_e2e_bot did I ask about lunch?",
      entities: [{ type: "mention", offset: 0, length: 11 }],
    });
    await fake.until(() => sentTo(group.id).length === 1, 10_000);
    expect(sentTo(group.id)[0]!.text).toContain("Grace Hopper: lunch at noon, everyone?");
    expect(sentTo(group.id)[0]!.text).toContain("Grace Hopper: @gw_e2e_bot did I ask about lunch?");
  }, 20_000);

  it("a 10,000-character reply arrives in chunks of at most 4096, in order", async () => {
    const words = Array.from({ length: 1_500 }, (_, index) => `w${String(index).padStart(5, "0")}`);
    const parts = [words.slice(0, 500), words.slice(500, 1000), words.slice(1000)].map((part) => part.join(" "));
    const before = sentTo(501).length;
    for (const text of parts) await fake.inject(botToken, { chat: { id: 501, type: "private" }, from: grace, text });
    await fake.until(() => sentTo(501).length >= before + 3, 20_000);
    await new Promise((resolve) => setTimeout(resolve, 1_500)); // nothing more comes
    const chunks = sentTo(501).slice(before);
    expect(chunks.length).toBe(3);
    for (const chunk of chunks) expect(chunk.text.length).toBeLessThanOrEqual(4096);
    const joined = chunks.map((chunk) => chunk.text).join(" ");
    expect(joined.length).toBeGreaterThan(10_000);
    expect(joined.split(/\s+/)).toEqual(words);
  }, 40_000);

  it("the Bot API goes away and comes back: the account reconnects and messages flow again", async () => {
    await fake.goDown();
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    const down = JSON.parse((await cli(["channels", "status", "--json"])).stdout);
    const account = down.channelAccounts.telegram.find((entry: { accountId: string }) => entry.accountId === "default");
    expect(account.connected).toBe(false);
    expect(account.healthState).toBe("reconnecting");
    await fake.comeBack();
    const before = sentTo(501).length;
    await fake.inject(botToken, { chat: { id: 501, type: "private" }, from: grace, text: "are you back?" });
    await fake.until(() => sentTo(501).length === before + 1, 20_000);
    expect(sentTo(501).at(-1)!.text.endsWith("are you back?")).toBe(true);
    const up = JSON.parse((await cli(["channels", "status", "--json"])).stdout);
    expect(
      up.channelAccounts.telegram.find((entry: { accountId: string }) => entry.accountId === "default"),
    ).toMatchObject({
      connected: true,
      healthState: "connected",
    });
  }, 40_000);

  it("webhook mode: updates posted to the gateway's port with the secret are handled; a forged one is refused", async () => {
    const forged = await fetch(`${logs.match(/http:\/\/127\.0\.0\.1:\d+/)![0]}/channels/telegram/hooked/webhook`, {
      method: "POST",
      headers: { "content-type": "application/json", "x-telegram-bot-api-secret-token": "guess" },
      body: JSON.stringify({ update_id: 1 }),
    });
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
