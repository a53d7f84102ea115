// One fake Discord per test file, and accounts on it that are stopped and cleaned up after each test.
import {
  type FakeDiscord,
  type FakeDiscordBotOptions,
  type FakeDiscordGuild,
  type FakeDiscordUser,
  startFakeDiscord,
} from "@gateway/fakes";
import { createTestContext } from "@gateway/plugin-sdk/testing";
import { afterAll, afterEach, beforeAll } from "vitest";
import { DiscordAccount, type DiscordAccountConfig } from "../src/index.js";

export const ada: FakeDiscordUser = { id: "4242", username: "ada", global_name: "Ada Lovelace" };
export const grace: FakeDiscordUser = { id: "4343", username: "grace", global_name: "Grace Hopper" };

type Overrides =
  | Partial<DiscordAccountConfig>
  | ((setup: { guild: FakeDiscordGuild; token: string }) => Partial<DiscordAccountConfig>);

/** Start a fake for the file (heartbeats every `heartbeatIntervalMs`) and stop what each test started. */
export function useFakeDiscord(options: { heartbeatIntervalMs?: number } = {}) {
  const state: { fake: FakeDiscord } = { fake: undefined as unknown as FakeDiscord };
  const cleanups: Array<() => Promise<void> | void> = [];
  beforeAll(async () => {
    state.fake = await startFakeDiscord(options);
  });
  afterEach(async () => {
    state.fake.flap(undefined);
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  });
  afterAll(() => state.fake?.close());

  /**
   * A bot with a guild (#general, #random, a forum), an account for it, not yet started. `overrides` may depend on the
   * guild (its ids are made up by the fake).
   */
  function account(overrides: Overrides = {}, bot: FakeDiscordBotOptions & { username?: string } = {}) {
    const fake = state.fake;
    const created = fake.addBot(bot.username ?? "gw_test_bot", bot);
    const guild = fake.addGuild(created.token, {
      name: "Team",
      channels: ["general", "random", { name: "help", type: "forum" }],
    });
    const config: DiscordAccountConfig = {
      token: created.token,
      apiRoot: fake.apiRoot,
      reconnect: { baseMs: 100, maxMs: 2_000, stableAfterMs: 60_000 },
      ...(typeof overrides === "function" ? overrides({ guild, token: created.token }) : overrides),
    };
    const test = createTestContext("discord", "default", config);
    const instance = new DiscordAccount("default", config);
    cleanups.push(async () => {
      await instance.stop();
      test.dispose();
    });
    return { bot: created, token: created.token, guild, config, test, account: instance };
  }

  /** `account()`, started. */
  async function started(overrides: Overrides = {}, bot: FakeDiscordBotOptions & { username?: string } = {}) {
    const entry = account(overrides, bot);
    await entry.account.start(entry.test.context);
    return entry;
  }

  return {
    get fake() {
      return state.fake;
    },
    account,
    started,
    cleanup: (fn: () => Promise<void> | void) => cleanups.push(fn),
  };
}

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
