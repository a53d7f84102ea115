// Two gateways on one Redis (fleet.enabled), each with its own state dir, clients on real WebSockets: every instance
// reads the same sessions; a session's turns run on the instance holding its lease and a chat.send or chat.abort on
// the other is forwarded to it with the same ack; clients on both racing on one session leave a whole, ordered
// transcript.

import { randomUUID } from "node:crypto";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createGatewayClient, type GatewayClient } from "@gateway/client";
import { type FakeOpenAI, startFakeOpenAI } from "@gateway/fakes";
import { type ChatHistoryResult, chatMessageText } from "@gateway/protocol";
// @ts-expect-error -- a plain .mjs helper of the private vitest preset
import { hasRedisServer, startRedisServer, useRedis } from "@gateway/vitest-preset/redis";
import { checkAvailable, until } from "@gateway/vitest-preset/wait";
import { Redis } from "ioredis";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { createGateway, type Gateway } from "../src/index.js";

const TOKEN = "fleet-sessions-test-token-0123456789";
const prefix = `gateway-test-fleet-sessions-${randomUUID().slice(0, 8)}:`;
let redisHandle: { url: string; stop(): Promise<void> } | undefined;
let fake: FakeOpenAI;
const cleanups: Array<() => unknown> = [];
beforeAll(async () => {
  redisHandle = await useRedis();
  fake = await startFakeOpenAI();
});
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});
afterAll(async () => {
  await fake?.close();
  if (redisHandle) {
    const redis = new Redis(redisHandle.url);
    for (const key of await redis.keys(`${prefix}*`)) await redis.del(key);
    redis.disconnect();
    await redisHandle.stop();
  }
});
const available = () => checkAvailable(redisHandle !== undefined, "Redis (REDIS_URL, 127.0.0.1:6379 or redis-server)");

/** One instance of a fleet (under `keyPrefix`) and a connected client; `model`: the fake OpenAI, else echo. */
async function instance(
  id: string,
  keyPrefix: string,
  model = false,
  redisUrl = redisHandle!.url,
): Promise<{ gateway: Gateway; client: GatewayClient }> {
  const stateDir = mkdtempSync(join(tmpdir(), `gateway-fleet-sessions-${id}-`));
  writeFileSync(
    join(stateDir, "gateway.json5"),
    JSON.stringify({
      gateway: { port: 0, auth: { token: TOKEN } },
      redis: { url: redisUrl, keyPrefix: `${keyPrefix}bridge:` },
      fleet: { enabled: true, instanceId: id, leaseMs: 2_000, keyPrefix },
      ...(model
        ? {
            models: { providers: { fake: { baseUrl: fake.baseUrl, models: [{ id: "fake-model" }] } } },
            agents: { defaults: { model: "fake/fake-model", backend: "openai" } },
          }
        : {}),
    }),
  );
  const gateway = createGateway({ stateDir, version: "1.0.0", logging: { stdout: false } });
  const address = await gateway.listen();
  const client = createGatewayClient({ url: address.url, token: TOKEN, reconnect: false });
  cleanups.push(
    () => rmSync(stateDir, { recursive: true, force: true }),
    () => gateway.close(),
    () => client.close(),
  );
  await client.ready();
  return { gateway, client };
}

const finals = (client: GatewayClient) => {
  const ended = new Map<string, { state: string; text?: string }>();
  client.on("chat", (payload) => {
    const event = payload as { runId: string; state: string; message?: { content: Array<{ text?: string }> } };
    if (event.state !== "delta") ended.set(event.runId, { state: event.state, text: event.message?.content[0]?.text });
  });
  return ended;
};
/** Each message as `role: text`; the echo agent's answers without the notice that opens them (their last line). */
const texts = (history: ChatHistoryResult) =>
  history.messages.map((message) => `${message.role}: ${chatMessageText(message).split("\n").at(-1)}`);

describe("sessions across a fleet", () => {
  it("what one instance writes the other lists and reads; patch, reset and delete work from either", async () => {
    if (!available()) return;
    const keyPrefix = `${prefix}${randomUUID().slice(0, 8)}:`;
    const a = await instance("a", keyPrefix);
    const b = await instance("b", keyPrefix);
    const ended = finals(a.client);
    const sessionKey = "agent:main:shared";
    const ack = await a.client.request("chat.send", { sessionKey, message: "hello fleet", idempotencyKey: "k1" });
    expect(ack).toEqual({ runId: expect.any(String), status: "started" });
    await until(() => ended.get(ack.runId)?.state === "final", { message: "the run to end on a" });
    await until(async () => (await b.client.request("chat.history", { sessionKey })).messages.length === 2, {
      message: "b to read the transcript",
    });
    expect(texts(await b.client.request("chat.history", { sessionKey }))).toEqual([
      "user: hello fleet",
      "assistant: hello fleet",
    ]);
    const listed = await b.client.request("sessions.list", {});
    expect(listed.sessions.map((session) => session.key)).toContain(sessionKey);
    await b.client.request("sessions.patch", { key: sessionKey, label: "From B" });
    await until(async () => (await a.client.request("sessions.list", {})).sessions.some((s) => s.label === "From B"), {
      message: "a to list b's label",
    });
    const before = (await a.client.request("chat.history", { sessionKey })).sessionId;
    const reset = await b.client.request("sessions.reset", { key: sessionKey });
    expect(reset.sessionId).not.toBe(before);
    await until(async () => (await a.client.request("chat.history", { sessionKey })).messages.length === 0, {
      message: "a to see the reset",
    });
    await a.client.request("sessions.delete", { key: sessionKey });
    await until(async () => !(await b.client.request("sessions.list", {})).sessions.some((s) => s.key === sessionKey), {
      message: "b to see the delete",
    });
  }, 30_000);

  it("a chat.send and chat.abort on the other instance go to the session's owner; its ack is the local one", async () => {
    if (!available()) return;
    const keyPrefix = `${prefix}${randomUUID().slice(0, 8)}:`;
    const a = await instance("a", keyPrefix, true);
    const b = await instance("b", keyPrefix, true);
    const endedOnA = finals(a.client);
    const sessionKey = "agent:main:forwarded";
    fake.script(
      { kind: "text", chunks: ["slow ", "first ", "answer"], chunkDelayMs: 300 },
      { kind: "text", chunks: ["second answer"] },
      { kind: "text", chunks: Array.from({ length: 40 }, () => "la "), chunkDelayMs: 200 },
    );
    const first = await a.client.request("chat.send", { sessionKey, message: "one", idempotencyKey: "f1" });
    expect(first.status).toBe("started");
    // A runs the session now: B forwards, and the message waits behind A's run as it would on A.
    const second = await b.client.request("chat.send", { sessionKey, message: "two", idempotencyKey: "f2" });
    expect(second).toEqual({ runId: expect.any(String), status: "queued" });
    await until(() => endedOnA.get(second.runId)?.state === "final", {
      timeoutMs: 10_000,
      message: "a to run b's message",
    });
    expect(endedOnA.get(first.runId)).toEqual({ state: "final", text: "slow first answer" });
    expect(texts(await b.client.request("chat.history", { sessionKey }))).toEqual([
      "user: one",
      "user: two",
      "assistant: slow first answer",
      "assistant: second answer",
    ]);
    // Still a's (it keeps a session a while after its last run): b's abort reaches the run there.
    const third = await b.client.request("chat.send", { sessionKey, message: "three", idempotencyKey: "f3" });
    expect(third.status).toBe("started");
    await until(() => fake.requests.length === 3, { message: "the third run to reach the model" });
    const aborted = await b.client.request("chat.abort", { sessionKey });
    expect(aborted).toEqual({ ok: true, aborted: true, runIds: [third.runId] });
    await until(() => endedOnA.get(third.runId)?.state === "aborted", { message: "the run to end aborted on a" });
    // A reset on b stops the run going on a (it must not write on into the session's next transcript).
    fake.script({ kind: "text", chunks: Array.from({ length: 40 }, () => "la "), chunkDelayMs: 200 });
    const fourth = await a.client.request("chat.send", { sessionKey, message: "four", idempotencyKey: "f4" });
    await until(() => fake.requests.length === 4, { message: "the fourth run to reach the model" });
    await b.client.request("sessions.reset", { key: sessionKey });
    await until(() => endedOnA.get(fourth.runId)?.state === "aborted", { message: "the reset to abort a's run" });
    // A channel's message that lands on b for a session a runs: a runs it, b gets the reply to send back.
    const main = await a.client.request("chat.send", {
      sessionKey: "agent:main:main",
      message: "x",
      idempotencyKey: "m",
    });
    await until(() => endedOnA.get(main.runId)?.state === "final", { message: "a to run the main session" });
    fake.script({ kind: "text", chunks: ["answered ", "on a"] });
    const reply = await b.gateway.agent.answer(
      { channel: "telegram", accountId: "default", chatType: "direct", peer: "42" },
      "from a chat",
    );
    expect(reply).toBe("answered on a");
    expect(texts(await b.client.request("chat.history", { sessionKey: "agent:main:main" })).slice(-2)).toEqual([
      "user: from a chat",
      "assistant: answered on a",
    ]);
  }, 30_000);

  it("clients on both instances racing on one session: every message once, each answer after its message, in order", async () => {
    if (!available()) return;
    const keyPrefix = `${prefix}${randomUUID().slice(0, 8)}:`;
    const a = await instance("a", keyPrefix);
    const b = await instance("b", keyPrefix);
    const sessionKey = "agent:main:raced";
    const messages = Array.from({ length: 10 }, (_, index) => `${index % 2 === 0 ? "a" : "b"}-${index}`);
    const acks = await Promise.all(
      messages.map((message, index) =>
        (index % 2 === 0 ? a : b).client.request("chat.send", {
          sessionKey,
          message,
          idempotencyKey: message,
          queueMode: "followup",
        }),
      ),
    );
    expect(new Set(acks.map((ack) => ack.runId)).size).toBe(messages.length);
    await until(
      async () =>
        (await a.client.request("chat.history", { sessionKey })).messages.filter((m) => m.role === "assistant")
          .length === messages.length,
      { timeoutMs: 15_000, message: "every message to be answered" },
    );
    const lines = texts(await b.client.request("chat.history", { sessionKey }));
    expect(lines).toHaveLength(2 * messages.length);
    const users = lines.filter((line) => line.startsWith("user: ")).map((line) => line.slice(6));
    const answers = lines.filter((line) => line.startsWith("assistant: ")).map((line) => line.slice(11));
    expect([...users].sort()).toEqual([...messages].sort());
    // One lane ran them all, in the order they were taken in: the answers follow the messages' order.
    expect(answers).toEqual(users);
    for (const answer of answers)
      expect(lines.indexOf(`assistant: ${answer}`)).toBeGreaterThan(lines.indexOf(`user: ${answer}`));
  }, 30_000);

  it("Redis round trips of one chat turn, on the session's owner and forwarded from another instance", async (context) => {
    if (!checkAvailable(hasRedisServer(), "redis-server (a Redis of the test's own, to watch every command)"))
      return context.skip();
    const server = await startRedisServer({ fsync: "everysec" });
    cleanups.push(() => server.stop());
    const keyPrefix = `${prefix}${randomUUID().slice(0, 8)}:`;
    const a = await instance("a", keyPrefix, true, server.url);
    const b = await instance("b", keyPrefix, true, server.url);
    const endedOnA = finals(a.client);
    const endedOnB = finals(b.client);
    const sessionKey = "agent:main:counted";
    const first = await a.client.request("chat.send", { sessionKey, message: "warm up", idempotencyKey: "w" });
    await until(() => endedOnA.get(first.runId)?.state === "final", { message: "the first turn" });
    await new Promise((resolve) => setTimeout(resolve, 300));
    // Every command Redis executes, as MONITOR shows them, that touches the sessions, their leases or the RPC lists
    // (what other parts run on timers — liveness, leases, the registry, presence, cron — is not the turn's); the
    // event fan-out's XADDs are counted apart.
    const monitor = await new Redis(server.url).monitor();
    cleanups.push(() => monitor.disconnect());
    let commands: string[] = [];
    const ours = (text: string) => /sessions:\{|:rpc:[^ ]*$|:rpc:[^ :]+ |lease:session:/.test(text);
    // A script's own calls and a transaction's queued commands travel with it: one round trip each.
    let inTransaction: string[] | undefined;
    let transactionOurs = false;
    monitor.on("monitor", (_time: string, args: string[], source: string) => {
      if (source === "lua") return;
      const [name = "", ...rest] = args.map(String);
      const command = name.toUpperCase();
      const text = rest.join(" ");
      if (command === "MULTI") {
        inTransaction = [];
        transactionOurs = false;
        return;
      }
      if (inTransaction && command !== "EXEC") {
        inTransaction.push(command);
        transactionOurs ||= ours(text);
        return;
      }
      if (command === "EXEC") {
        if (transactionOurs) commands.push(`MULTI ${inTransaction?.join("+")}`);
        inTransaction = undefined;
        return;
      }
      if (command === "XADD") commands.push("XADD");
      else if (
        command !== "BLPOP" &&
        !(["SET", "EXISTS"].includes(command) && text.includes(":alive")) && // liveness beats and checks
        !text.includes("PEXPIRE', KEYS[1], ARGV[2]) end") && // a lease renewal
        ours(text)
      )
        commands.push(command === "EVAL" ? `EVAL ${scriptName(text)}` : command);
    });
    await new Promise((resolve) => setTimeout(resolve, 100));
    const count = async (on: { client: GatewayClient }, ended: Map<string, unknown>, message: string) => {
      commands = [];
      const ack = await on.client.request("chat.send", { sessionKey, message, idempotencyKey: message });
      await until(() => ended.has(ack.runId), { message: `the turn "${message}"` });
      await new Promise((resolve) => setTimeout(resolve, 300));
      const turn = commands.filter((command) => command !== "XADD");
      return { turn, events: commands.length - turn.length };
    };
    const local = await count(a, endedOnA, "counted on the owner");
    const forwarded = await count(b, endedOnB, "counted from the other instance");
    console.log(
      `one chat turn on the session's owner: ${local.turn.length} round trips (${local.turn.join(", ")}) + ${local.events} XADD (event fan-out)\n` +
        `forwarded from another instance: ${forwarded.turn.length} round trips (${forwarded.turn.join(", ")}) + ${forwarded.events} XADD`,
    );
    // The owner: the transcript's size (the room check), the user message, the reply, the token counts.
    // (Compared as sets with counts: on a loaded machine two instances' commands can interleave differently.)
    const sorted = (commands: string[]) => [...commands].sort();
    expect(sorted(local.turn)).toEqual(sorted(["HGET", "EVAL append", "EVAL append", "EVAL edit"]));
    // Forwarded: the other instance tries the lease and reads its holder, then the request and the wait are a push
    // and a reply each (besides each receiver's BLPOP, issued again after every message it gets).
    expect(sorted(forwarded.turn)).toEqual(
      sorted([
        "EVAL lease acquire",
        "GET",
        "PTTL",
        "EVAL rpc push",
        "HGET",
        "EVAL append",
        "MULTI RPUSH+PEXPIRE",
        "EVAL rpc push",
        "EVAL append",
        "EVAL edit",
        "MULTI RPUSH+PEXPIRE",
      ]),
    );
  }, 60_000);
});

/** Which of the store's scripts an EVAL runs. */
function scriptName(text: string): string {
  if (text.includes("RPUSH', KEYS[4]")) return "append";
  if (text.includes("for field, value in pairs")) return "edit";
  if (text.includes("redis.call('RPUSH', KEYS[2], ARGV[1])")) return "rpc push";
  if (text.includes("INCR")) return "lease acquire";
  return "other";
}
