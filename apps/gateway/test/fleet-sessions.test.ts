// Two gateway processes on one Redis with the fake OpenAI model: a turn sent to b for a session a runs is forwarded
// to a and streams to b's client; kill -9 a mid-turn and b's client sees that run end as an error within the lease;
// the next turn runs on b, with the transcript intact up to the last message a kept.
import { randomUUID } from "node:crypto";
import { existsSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { type FakeOpenAI, startFakeOpenAI } from "@gateway/fakes";
// @ts-expect-error -- a plain .mjs helper of the private vitest preset
import { useRedis } from "@gateway/vitest-preset/redis";
import { checkAvailable, until } from "@gateway/vitest-preset/wait";
import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { WebSocket } from "ws";
import { type GatewayProcess, main, onCleanup, rawConnect, startGateway, tempDir } from "./support/gateway-process.js";

const TOKEN = "fleet-sessions-e2e-token-0123456789";
const LEASE_MS = 2_000;
const prefix = `gateway-test-fleet-sessions-${randomUUID().slice(0, 8)}:`;
let redisHandle: { url: string; stop(): Promise<void> } | undefined;
let fake: FakeOpenAI;

beforeAll(async () => {
  redisHandle = await useRedis();
  fake = await startFakeOpenAI();
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

async function instance(id: string): Promise<GatewayProcess> {
  const stateDir = tempDir(`gateway-fleet-sessions-${id}-`);
  writeFileSync(
    join(stateDir, "gateway.json5"),
    `{
      gateway: { auth: { mode: "token", token: "${TOKEN}" } },
      redis: { url: "${redisHandle!.url}", keyPrefix: "${prefix}bridge:" },
      fleet: { enabled: true, instanceId: "${id}", leaseMs: ${LEASE_MS}, keyPrefix: "${prefix}" },
      models: { providers: { fake: { baseUrl: "${fake.baseUrl}", models: [{ id: "fake-model" }] } } },
      agents: { defaults: { model: "fake/fake-model", backend: "openai" } },
    }`,
  );
  return startGateway(stateDir, { GATEWAY_TOKEN: TOKEN });
}

type Frame = { type: string; event?: string; id?: string; ok?: boolean; payload?: any; error?: unknown };

/** A connected client that records every frame. */
async function client(port: number) {
  const socket: WebSocket = await rawConnect(port, TOKEN, ["operator.read", "operator.write"]);
  onCleanup(() => socket.close());
  const frames: Frame[] = [];
  socket.on("message", (data) => frames.push(JSON.parse(data.toString()) as Frame));
  let next = 0;
  return {
    chat: (runId: string) => frames.filter((frame) => frame.event === "chat" && frame.payload.runId === runId),
    async request(method: string, params: unknown, timeoutMs = 10_000): Promise<any> {
      const id = `r${next++}`;
      socket.send(JSON.stringify({ type: "req", id, method, params }));
      await until(() => frames.some((frame) => frame.id === id), { timeoutMs, message: `the answer to ${method}` });
      const answer = frames.find((frame) => frame.id === id)!;
      if (!answer.ok) throw new Error(`${method}: ${JSON.stringify(answer.error)}`);
      return answer.payload;
    },
  };
}

describe("sessions across two gateway processes", () => {
  it("kill -9 of the instance running a turn: the client on the other sees it end within the lease, the next turn runs there", async (context) => {
    if (!checkAvailable(redisHandle !== undefined, "Redis (REDIS_URL, 127.0.0.1:6379 or redis-server)"))
      return context.skip();
    if (!existsSync(main)) throw new Error("build the app first: npx turbo run build --filter=gateway");
    const [a, b] = await Promise.all([instance("a"), instance("b")]);
    const onA = await client(a.port);
    const onB = await client(b.port);
    const sessionKey = "agent:main:failover";
    const send = (on: typeof onA, message: string) =>
      on.request("chat.send", { sessionKey, message, idempotencyKey: randomUUID() }, 15_000);

    // a runs the session's first turn, so it holds the session.
    const first = await send(onA, "one");
    await until(() => onA.chat(first.runId).some((frame) => frame.payload.state === "final"), {
      message: "the first turn to end on a",
    });
    // b's message goes to a, and a's run streams to b's client (the fleet's event fan-out).
    fake.script({ kind: "text", chunks: Array.from({ length: 60 }, () => "slow "), chunkDelayMs: 200 });
    const second = await send(onB, "two");
    expect(second).toEqual({ runId: expect.any(String), status: "started" });
    await until(() => onB.chat(second.runId).some((frame) => frame.payload.state === "delta"), {
      message: "b's client to see a's run stream",
    });
    a.child.kill("SIGKILL");
    const killed = performance.now();
    await until(() => onB.chat(second.runId).some((frame) => frame.payload.state === "error"), {
      timeoutMs: 10_000,
      message: "b's client to see the run end",
    });
    const endedAfterMs = performance.now() - killed;
    expect(endedAfterMs).toBeLessThan(LEASE_MS);
    expect(onB.chat(second.runId).at(-1)!.payload).toMatchObject({
      state: "error",
      errorMessage: expect.stringMatching(/instance a, which ran this turn, stopped/),
    });

    // The next turn: b takes the session over once a's lease has run out, and runs it.
    const third = await send(onB, "three");
    expect(third.status).toBe("started");
    await until(() => onB.chat(third.runId).some((frame) => frame.payload.state === "final"), {
      message: "the next turn to end on b",
    });
    const history = await onB.request("chat.history", { sessionKey });
    expect(history.messages.map((message: any) => `${message.role}: ${message.content[0].text}`)).toEqual([
      "user: one",
      "assistant: one",
      "user: two",
      "user: three",
      "assistant: three",
    ]);
    console.log(`run end seen ${Math.round(endedAfterMs)} ms after kill -9 (lease ${LEASE_MS} ms)`);
  }, 60_000);

  it("an owner paused (SIGSTOP) past its lease mid-turn: the other instance takes the session; woken, the old owner's late reply is refused", async (context) => {
    if (!checkAvailable(redisHandle !== undefined, "Redis (REDIS_URL, 127.0.0.1:6379 or redis-server)"))
      return context.skip();
    if (!existsSync(main)) throw new Error("build the app first: npx turbo run build --filter=gateway");
    const [a, b] = await Promise.all([instance("pa"), instance("pb")]);
    const onA = await client(a.port);
    const onB = await client(b.port);
    const sessionKey = "agent:main:paused";
    const send = (on: typeof onA, message: string) =>
      on.request("chat.send", { sessionKey, message, idempotencyKey: randomUUID() }, 15_000);
    const first = await send(onA, "one");
    await until(() => onA.chat(first.runId).some((frame) => frame.payload.state === "final"), {
      message: "the first turn to end on a",
    });
    fake.script({ kind: "text", chunks: Array.from({ length: 30 }, () => "stale "), chunkDelayMs: 100 });
    const second = await send(onA, "two");
    await until(() => onA.chat(second.runId).some((frame) => frame.payload.state === "delta"), {
      message: "a's run to stream",
    });
    a.child.kill("SIGSTOP");
    onCleanup(() => a.child.kill("SIGCONT"));
    // b cannot reach a: once a's lease has run out, b takes the session and runs the turn.
    const third = await send(onB, "three");
    await until(() => onB.chat(third.runId).some((frame) => frame.payload.state === "final"), {
      timeoutMs: 10_000,
      message: "the turn to run on b",
    });
    a.child.kill("SIGCONT");
    await until(() => /could not be saved to the transcript.*fencing token/.test(a.output()), {
      timeoutMs: 10_000,
      message: "the woken owner's late reply to be refused",
    });
    const history = await onB.request("chat.history", { sessionKey });
    expect(history.messages.map((message: any) => `${message.role}: ${message.content[0].text}`)).toEqual([
      "user: one",
      "assistant: one",
      "user: two",
      "user: three",
      "assistant: three",
    ]);
  }, 60_000);
});
