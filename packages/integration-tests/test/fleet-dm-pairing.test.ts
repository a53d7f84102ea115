// Two gateways on one Redis with the same Telegram bot (the fake Bot API, the real grammY): the instance that runs
// the account gives a stranger a pairing code; the code is listed and approved on the other instance; the sender's
// next message is answered, and still is after the account moved to the other instance.
import { type FakeTelegram, startFakeTelegram } from "@gateway/fakes";
import { until } from "@gateway/vitest-preset/wait";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { fleetInstance, fleetPrefix, redisAvailable } from "./fleet-harness.js";
import { stopAll, type TestGateway } from "./harness.js";

let fake: FakeTelegram;
beforeAll(async () => {
  fake = await startFakeTelegram();
});
afterEach(stopAll);
afterAll(async () => {
  await fake?.close();
});

async function accountState(instance: TestGateway): Promise<string | undefined> {
  const client = await instance.client();
  const status = await client.request("channels.status", {});
  client.close();
  return status.channelAccounts.telegram?.[0]?.healthState;
}

describe("DM pairing across a fleet", () => {
  it("a code issued by the owner of the account is approved on another instance and holds after a failover", async (context) => {
    if (!redisAvailable()) return context.skip();
    const botToken = fake.addBot(`gw_fleet_pairing_${Date.now()}_bot`);
    const keyPrefix = fleetPrefix();
    const channels = {
      telegram: {
        apiRoot: fake.apiRoot,
        pollTimeoutSeconds: 1,
        debounceMs: 0,
        dmPolicy: "pairing",
        accounts: { default: { botToken } },
      },
    };
    const a = await fleetInstance("a", keyPrefix, {
      channels,
      fleet: { enabled: true, keyPrefix, leaseMs: 2_000 },
    });
    await until(async () => (await accountState(a)) === "connected", {
      timeoutMs: 15_000,
      message: "a to run the account",
    });
    const b = await fleetInstance("b", keyPrefix, {
      channels,
      fleet: { enabled: true, keyPrefix, leaseMs: 2_000 },
    });
    await until(async () => (await accountState(b)) === "standby", { timeoutMs: 15_000, message: "b to stand by" });

    const grace = { id: 8801, is_bot: false, first_name: "Grace" };
    const sentTo = () => fake.sent(botToken).filter((message) => String(message.chat_id) === "8801");
    await fake.inject(botToken, { chat: { id: 8801, type: "private" }, from: grace, text: "who are you?" });
    await until(() => sentTo().length === 1, { timeoutMs: 10_000, message: "a to send a pairing code" });
    const code = /pairing code: ([A-Z2-9]{8})/.exec(String(sentTo()[0]!.text))?.[1];
    expect(code).toBeDefined();

    // Listed and approved on b, which does not run the account.
    const operatorB = await b.client();
    await until(
      async () =>
        (await operatorB.request("channels.pairing.list", { channel: "telegram" })).requests.some(
          (request: { requestId: string }) => request.requestId === code,
        ),
      { message: "b to list the code issued on a" },
    );
    expect(
      await operatorB.request("channels.pairing.approve", {
        channel: "telegram",
        accountId: "default",
        requestId: code!,
      }),
    ).toMatchObject({
      senderId: "8801",
    });

    // The next message reaches the agent on a …
    await fake.inject(botToken, { chat: { id: 8801, type: "private" }, from: grace, text: "approved on b" });
    await until(() => sentTo().some((message) => String(message.text).endsWith("approved on b")), {
      timeoutMs: 10_000,
      message: "a to answer the approved sender",
    });
    // … and on b once it runs the account (a stops cleanly: it hands the account over at once).
    await a.gateway.close();
    await until(async () => (await accountState(b)) === "connected", { timeoutMs: 10_000, message: "b to take over" });
    await fake.inject(botToken, { chat: { id: 8801, type: "private" }, from: grace, text: "now on b" });
    await until(() => sentTo().some((message) => String(message.text).endsWith("now on b")), {
      timeoutMs: 10_000,
      message: "b to answer the sender approved earlier",
    });
    expect(sentTo().filter((message) => /pairing code/.test(String(message.text)))).toHaveLength(1);
  });
});
