// The gateway connection's lifecycle against the fake: resume, re-identify, fatal close codes, zombies, flapping and
// the session start limit. Heartbeats are fast here so a zombie connection is found within a second.
import { isFatal } from "@gateway/plugin-sdk";
import { describe, expect, it } from "vitest";
import { ada, sleep, useFakeDiscord } from "./helpers.js";

const discord = useFakeDiscord({ heartbeatIntervalMs: 300 });
const opens = () => discord.fake.gatewayLog.filter((entry) => entry.kind === "open");

describe("discord gateway lifecycle", () => {
  it("a dropped connection is resumed (RESUME, no new IDENTIFY) and a message sent meanwhile is replayed", async () => {
    const { token, test } = await discord.started();
    expect(discord.fake.identifies(token)).toBe(1);
    discord.fake.drop(token);
    discord.fake.dm(token, ada, "sent while you were away");
    await test.until(() => test.received.some((message) => message.text === "sent while you were away"), 5_000);
    await test.until(() => test.status().connected === true);
    expect(discord.fake.resumes(token)).toBe(1);
    expect(discord.fake.identifies(token)).toBe(1);
    expect(opens().at(-1)!.path).toBe("/resume"); // READY's resume_gateway_url, not the gateway URL
    expect(test.history.some((patch) => patch.connected === false)).toBe(true);
    expect(test.status()).toMatchObject({ connected: true, reconnectAttempts: 0, lastError: null });
    expect(test.status().mode).toMatch(/gateway ready, .*1 reconnect, last close 1006 connection lost/);
  });

  it("op 7 (Discord asks to reconnect) resumes too", async () => {
    const { token, test } = await discord.started();
    discord.fake.requestReconnect(token);
    await test.until(() => discord.fake.resumes(token) === 1 && test.status().connected === true, 5_000);
    expect(discord.fake.identifies(token)).toBe(1);
    discord.fake.dm(token, ada, "still here?");
    await test.until(() => test.received.length === 1);
  });

  it("a lost session (server restart, or op 9 not resumable) gets a fresh IDENTIFY and messages flow again", async () => {
    // Up longer than stableAfterMs: no IDENTIFY streak to back off from, only Discord's 5 s between IDENTIFYs.
    const { token, test } = await discord.started({ reconnect: { baseMs: 100, stableAfterMs: 200 } });
    await sleep(300);
    await discord.fake.restart();
    await test.until(() => discord.fake.identifies(token) === 2 && test.status().connected === true, 10_000);
    expect(
      discord.fake.gatewayLog.filter((entry) => entry.kind === "invalid-session" && entry.token === token),
    ).toHaveLength(1);
    await sleep(300);
    discord.fake.invalidateSession(token, false);
    await test.until(() => discord.fake.identifies(token) === 3 && test.status().connected === true, 10_000);
    discord.fake.dm(token, ada, "after two new sessions");
    await test.until(() => test.received.length === 1);
    expect(test.status()).toMatchObject({ connected: true, fatal: false });
    const [first, second, third] = discord.fake.gatewayLog.filter(
      (entry) => entry.kind === "identify" && entry.token === token,
    );
    expect(second!.at - first!.at).toBeGreaterThanOrEqual(4_990);
    expect(third!.at - second!.at).toBeGreaterThanOrEqual(4_990);
    expect(third!.at - second!.at).toBeLessThan(8_000); // no streak backoff on top
  }, 20_000);

  it("a zombie connection (heartbeats never acknowledged) is noticed and resumed", async () => {
    const { token, test } = await discord.started();
    discord.fake.silence(token);
    await test.until(
      () => discord.fake.gatewayLog.some((entry) => entry.kind === "resume" && entry.token === token),
      5_000,
    );
    discord.fake.silence(token, false);
    await test.until(() => test.status().connected === true);
    discord.fake.dm(token, ada, "are you alive?");
    await test.until(() => test.received.length === 1);
    expect(discord.fake.identifies(token)).toBe(1);
  });

  it("4004 at IDENTIFY: fatal with the fix, exactly one IDENTIFY, no retry", async () => {
    const { token, test, account } = discord.account({}, { username: "revoked_bot" });
    discord.fake.closeOnIdentify(token, 4004);
    const failure = await account.start(test.context).catch((error: unknown) => error);
    expect(isFatal(failure)).toBe(true);
    expect(test.status()).toMatchObject({ fatal: true, connected: false, running: false });
    expect(test.status().lastError).toMatch(/4004 Authentication failed.*Bot → Reset Token/);
    await sleep(1_500);
    expect(discord.fake.identifies(token)).toBe(1);
    expect(opens().filter((entry) => entry.at > Date.now() - 1_400)).toHaveLength(0);
  });

  it("4014 (Message Content intent off in the portal): fatal, names the switch, one IDENTIFY", async () => {
    const { token, test, account } = discord.account({}, { username: "no_content_bot", messageContentIntent: false });
    await expect(account.start(test.context)).rejects.toMatchObject({ fatal: true, status: 4014 });
    expect(test.status().lastError).toMatch(
      /4014 Disallowed intents.*"Message Content Intent".*Bot → Privileged Gateway Intents/,
    );
    await sleep(1_000);
    expect(discord.fake.identifies(token)).toBe(1);
  });

  it("4010–4013 are fatal as well; 4000 is not (it resumes)", async () => {
    for (const code of [4010, 4011, 4012, 4013]) {
      const { token, test, account } = discord.account({}, { username: `bot_${code}` });
      discord.fake.closeOnIdentify(token, code);
      await expect(account.start(test.context)).rejects.toMatchObject({ fatal: true, status: code });
      expect(test.status().lastError).toContain(`gateway close ${code}`);
    }
    const { token, test } = await discord.started({}, { username: "resumes_on_4000" });
    discord.fake.closeGateway(token, 4000);
    await test.until(() => discord.fake.resumes(token) === 1 && test.status().connected === true, 5_000);
    expect(test.status().fatal).toBe(false);
  });

  it("a token reset while running (4004): the account stops, says why, reports once, and never reconnects", async () => {
    const { token, test } = await discord.started({}, { username: "reset_bot" });
    discord.fake.revoke(token);
    await test.until(() => test.status().fatal === true, 5_000);
    expect(test.status()).toMatchObject({ connected: false, running: false });
    expect(test.errors).toHaveLength(1);
    expect(test.errors[0]!.message).toMatch(/4004/);
    const before = opens().length;
    await sleep(1_500);
    expect(opens().length).toBe(before);
  });

  it("a bad token at login (REST 401) is fatal before any IDENTIFY", async () => {
    const { test, account } = discord.account({ token: "MTIz.bad.token" });
    await expect(account.start(test.context)).rejects.toMatchObject({
      fatal: true,
      message: expect.stringMatching(/401 Unauthorized.*Reset Token/),
    });
    expect(discord.fake.gatewayLog.some((entry) => entry.token === "MTIz.bad.token")).toBe(false);
  });

  it("a missing token fails the start as fatal and says where to put it", async () => {
    const { createTestContext } = await import("@gateway/plugin-sdk/testing");
    const { DiscordAccount } = await import("../src/index.js");
    const config = { apiRoot: discord.fake.apiRoot };
    const test = createTestContext("discord", "work", config);
    const account = new DiscordAccount("work", config);
    await expect(account.start(test.context)).rejects.toMatchObject({
      fatal: true,
      message: expect.stringMatching(/channels\.discord\.accounts\.work\.token/),
    });
    test.dispose();
  });

  it("a flapping gateway: each reconnect waits its jittered backoff (no 500 ms storm) and resumes, never IDENTIFYs", async () => {
    const baseMs = 200;
    const maxMs = 1_600;
    const { token, test } = await discord.started({ reconnect: { baseMs, maxMs, stableAfterMs: 60_000 } });
    const first = opens().length;
    discord.fake.flap({ closeAfterMs: 20 });
    discord.fake.drop(token);
    await sleep(4_500);
    discord.fake.flap(undefined);
    const attempts = opens().slice(first);
    // Attempt n waits at least half of min(maxMs, baseMs · 2^(n-1)) (the jitter is ±50 %) after the drop before it.
    const closes = discord.fake.gatewayLog.filter((entry) => entry.kind === "close" && entry.token === token);
    for (const [index, attempt] of attempts.entries()) {
      const closed = closes.filter((entry) => entry.at <= attempt.at).at(-1)!;
      expect(attempt.at - closed.at).toBeGreaterThanOrEqual(0.5 * Math.min(maxMs, baseMs * 2 ** index) + 450);
    }
    expect(attempts.length).toBeGreaterThanOrEqual(3);
    expect(attempts.length).toBeLessThanOrEqual(6); // discord.js alone: one every ~0.5 s, 9 or more here
    expect(discord.fake.identifies(token)).toBe(1);
    await test.until(() => test.status().connected === true, 5_000);
    expect(test.status().mode).toMatch(new RegExp(`${opens().length - first} reconnects`));
  }, 20_000);

  it("flapping that loses the session: IDENTIFYs wait at least Discord's 5 s, backing off", async () => {
    const { token, test } = await discord.started();
    discord.fake.flap({ closeAfterMs: 20, invalidateSession: true });
    discord.fake.drop(token);
    await sleep(3_000);
    expect(discord.fake.identifies(token)).toBe(1);
    expect(test.status().connected).toBe(false);
    discord.fake.flap(undefined);
    await test.until(() => test.status().connected === true, 10_000);
    const identifies = discord.fake.gatewayLog.filter((entry) => entry.kind === "identify" && entry.token === token);
    expect(identifies).toHaveLength(2);
    expect(identifies[1]!.at - identifies[0]!.at).toBeGreaterThanOrEqual(3_500);
  }, 20_000);

  it("the session start limit nearly used up: no IDENTIFY until Discord resets it (the token is never burnt)", async () => {
    const { token, test } = await discord.started(
      {},
      { username: "budget_bot", sessionStartLimit: { total: 10, remaining: 4, resetAfterMs: 3_600_000 } },
    );
    discord.fake.invalidateSession(token, false);
    await test.until(() => /session start limit/.test(test.status().lastError ?? ""), 5_000);
    await sleep(1_000);
    expect(discord.fake.identifies(token)).toBe(1);
    expect(discord.fake.sessionStartLimit(token).remaining).toBe(3);
    expect(test.status()).toMatchObject({ connected: false, fatal: false });
    expect(test.status().mode).toMatch(/gateway waiting/);
  });

  it("no session starts left at all: the start fails (retryable, saying so) without an IDENTIFY", async () => {
    const { token, test, account } = discord.account(
      {},
      { username: "spent_bot", sessionStartLimit: { total: 1000, remaining: 0, resetAfterMs: 3_600_000 } },
    );
    const failure = await account.start(test.context).catch((error: unknown) => error);
    expect(isFatal(failure)).toBe(false);
    expect(test.status().lastError).toMatch(/Not enough sessions remaining/);
    expect(discord.fake.identifies(token)).toBe(0);
    expect(discord.fake.sessionStartLimit(token).remaining).toBe(0);
  });

  it("the IDENTIFY ledger outlives the account: a restart right after a start waits out Discord's spacing", async () => {
    const { token, test, account, config } = await discord.started({}, { username: "ledger_bot" });
    await account.stop();
    const { DiscordAccount } = await import("../src/index.js");
    const again = new DiscordAccount("default", config);
    discord.cleanup(() => again.stop());
    const began = Date.now();
    await again.start(test.context);
    const identifies = discord.fake.gatewayLog.filter((entry) => entry.kind === "identify" && entry.token === token);
    expect(identifies).toHaveLength(2);
    expect(identifies[1]!.at - identifies[0]!.at).toBeGreaterThanOrEqual(3_500);
    expect(Date.now() - began).toBeGreaterThanOrEqual(3_000);
  }, 20_000);

  it("stop during a backoff ends at once and opens nothing afterwards", async () => {
    const { token, account } = await discord.started({ reconnect: { baseMs: 2_000, maxMs: 5_000 } });
    discord.fake.drop(token);
    await sleep(300);
    const before = opens().length;
    const began = Date.now();
    await account.stop();
    expect(Date.now() - began).toBeLessThan(1_000);
    await sleep(3_500);
    expect(opens().length).toBe(before);
  }, 15_000);

  it("status and probe: the bot user, guild count, gateway state, ping, reconnects, last close code", async () => {
    const { token, test, account } = await discord.started({}, { username: "status_bot" });
    await test.until(() => /ping \d+ ms/.test(test.status().mode ?? ""), 3_000);
    expect(test.status().mode).toMatch(/^@status_bot, 1 guild, gateway ready, ping \d+ ms, 0 reconnects$/);
    discord.fake.drop(token);
    await test.until(() => discord.fake.resumes(token) === 1 && test.status().connected === true, 5_000);
    const probe = await account.probe();
    expect(probe).toMatchObject({
      ok: true,
      bot: { username: "status_bot" },
      guilds: 1,
      gateway: "ready",
      lastCloseCode: 1006,
      reconnects: 1,
      identifiesToday: 1,
      sessionStartsRemaining: 999,
    });
    expect(probe.latencyMs).toBeGreaterThanOrEqual(0);
    expect(probe.detail).toMatch(/@status_bot, 1 guild, gateway ready, ping \d+ ms, 1 reconnect, last close 1006/);
  });
});
