import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { chatMessageText, type MethodName, textContent, validateEventPayload, validateResult } from "@gateway/protocol";
import { eventually, until } from "@gateway/vitest-preset/wait";
import { afterEach, describe, expect, it } from "vitest";
import { createGatewayClient } from "../../client/src/index.js";
import { loadReferenceSchema, referenceValidators } from "../../protocol/test/reference-schema.js";
import { createGatewayServer, type GatewayServer } from "../../server/src/index.js";
import { type AgentHost, AgentService, type AgentServiceOptions, createEchoBackend } from "../src/index.js";

const TOKEN = "agent-test-token-0123456789";
const referenceValidator = referenceValidators(loadReferenceSchema());
const cleanups: Array<() => unknown> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function start(stateDir?: string, delayMs = 0, extra: Partial<AgentServiceOptions> = {}) {
  const dir = stateDir ?? mkdtempSync(join(tmpdir(), "gateway-agent-"));
  if (!stateDir) cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  const server: GatewayServer = createGatewayServer({
    port: 0,
    auth: { mode: "token", token: TOKEN },
    logging: { level: "silent", stdout: false, file: false },
    shutdownTimeoutMs: 200,
  });
  // Every result and event the agent produces must match the protocol schemas.
  const problems: string[] = [];
  const host: AgentHost = {
    registerMethod: (name, handler, options) =>
      server.registerMethod(
        name,
        (async (params: never, context: never) => {
          const result = await (handler as (p: never, c: never) => unknown)(params, context);
          const check = validateResult(name as MethodName, result);
          if (!check.ok) problems.push(`${name}: ${JSON.stringify(check.issues)}`);
          return result;
        }) as never,
        options as never,
      ),
    broadcast: (event, payload) => {
      const check = validateEventPayload(event, payload);
      if (!check.ok) problems.push(`${event}: ${JSON.stringify(check.issues)}`);
      // …and under the reference implementation's schema, so its clients understand every event.
      const theirs = referenceValidator(event === "chat" ? "ChatEvent" : "AgentEvent");
      if (!theirs(payload)) problems.push(`${event} (reference): ${JSON.stringify(theirs.errors)}`);
      return server.broadcast(event, payload);
    },
  };
  const service = new AgentService(host, { stateDir: dir, runtime: createEchoBackend({ delayMs }), ...extra });
  service.register();
  const address = await server.listen();
  const client = createGatewayClient({ url: address.url, token: TOKEN, reconnect: false });
  await client.ready();
  const stop = async () => {
    client.close();
    await service.dispose();
    await server.close();
  };
  cleanups.push(stop);
  return { client, service, dir, problems, stop };
}

describe("the agent over the protocol (echo backend)", () => {
  it("chat.send streams chat and agent events and keeps the transcript", async () => {
    const { client, problems } = await start();
    const chat: Array<{ state: string; deltaText?: string; seq: number }> = [];
    const agent: string[] = [];
    client.on("chat", (event) => chat.push(event as never));
    client.on("agent", (event) => agent.push(`${event.stream}:${JSON.stringify(event.data)}`));
    const sent = await client.request("chat.send", { sessionKey: "agent:main:main", message: "hello from the test" });
    expect(sent.status).toBe("started");
    await until(() => chat.some((event) => event.state === "final"), { message: "the final chat event" });
    expect(
      chat
        .filter((event) => event.state === "delta")
        .map((event) => event.deltaText)
        .join(""),
    ).toBe("hello from the test");
    expect(chat.map((event) => event.seq)).toEqual(chat.map((_, index) => index));
    expect(agent[0]).toMatch(/^lifecycle:.*"phase":"start"/);
    expect(agent.at(-1)).toMatch(/^lifecycle:.*"phase":"end"/);
    // The transcript is written as the run ends, right around the final event.
    await eventually(async () => {
      const history = await client.request("chat.history", { sessionKey: "agent:main:main" });
      expect(history.messages.map((message) => `${message.role}:${chatMessageText(message)}`)).toEqual([
        "user:hello from the test",
        "assistant:hello from the test",
      ]);
    });
    expect(problems).toEqual([]);
  });

  it("agent answers twice (ack, then final) and agent.wait reports the run", async () => {
    const { client, problems } = await start();
    const acks: string[] = [];
    const final = await client.agent({ message: "ping" }, { onAccepted: (ack) => acks.push(ack.runId) });
    expect(final).toMatchObject({ status: "ok", summary: "ping", sessionKey: "agent:main:main" });
    expect(acks).toEqual([final.runId]);
    const waited = await client.request("agent.wait", { runId: final.runId });
    expect(waited).toMatchObject({ runId: final.runId, status: "ok" });
    expect((await client.request("agent.wait", { runId: "nope" })).status).toBe("error");
    expect(problems).toEqual([]);
  });

  it("aborts a running chat, answers in_flight for a retried idempotency key, and injects notes", async () => {
    const { client, problems } = await start(undefined, 30);
    const events: string[] = [];
    client.on("chat", (event) => events.push(event.state));
    const params = { sessionKey: "s1", message: "a b c d e f g h", idempotencyKey: "same-key" };
    const first = await client.request("chat.send", params);
    expect((await client.request("chat.send", params)).status).toBe("in_flight");
    // Abort mid-run: once the first words streamed (8 words at 30 ms each leave plenty to abort).
    await until(() => events.includes("delta"), { message: "the first delta" });
    const aborted = await client.request("chat.abort", { sessionKey: "s1" });
    expect(aborted).toEqual({ ok: true, aborted: true, runIds: [first.runId] });
    await until(() => events.includes("aborted"), { message: "the aborted chat event" });
    expect(events).not.toContain("final");
    const injected = await client.request("chat.inject", { sessionKey: "s1", message: "a note from the operator" });
    expect(injected.ok).toBe(true);
    const history = await client.request("chat.history", { sessionKey: "s1" });
    expect(history.messages.at(-1)).toMatchObject({
      role: "assistant",
      content: textContent("a note from the operator"),
    });
    expect(problems).toEqual([]);
  });

  it("lists, previews, patches, resets and deletes sessions; history survives a restart", async () => {
    const first = await start();
    await first.client.agent({ message: "remember me", sessionKey: "agent:main:dm:42" });
    await first.client.request("sessions.patch", { key: "agent:main:dm:42", label: "Ada" });
    const list = await first.client.request("sessions.list", {});
    expect(list.sessions[0]).toMatchObject({ key: "agent:main:dm:42", label: "Ada", agentId: "main" });
    const preview = await first.client.request("sessions.preview", { keys: ["agent:main:dm:42", "missing"] });
    expect(preview.previews.map((entry) => entry.status)).toEqual(["ok", "missing"]);
    expect(first.problems).toEqual([]);
    await first.stop();

    const second = await start(first.dir);
    const history = await second.client.request("chat.history", { sessionKey: "agent:main:dm:42" });
    expect(history.messages.map((message) => chatMessageText(message))).toEqual(["remember me", "remember me"]);
    const reset = await second.client.request("sessions.reset", { key: "agent:main:dm:42" });
    expect(reset.sessionId).not.toBe(history.sessionId);
    expect((await second.client.request("chat.history", { sessionKey: "agent:main:dm:42" })).messages).toEqual([]);
    const deleted = await second.client.request("sessions.delete", { key: "agent:main:dm:42" });
    expect(deleted).toMatchObject({ ok: true, deleted: true });
    expect((await second.client.request("sessions.list", {})).count).toBe(0);
    expect(second.problems).toEqual([]);
    cleanups.push(() => rmSync(first.dir, { recursive: true, force: true }));
  });
});

describe("sessions: reset triggers and policies, usage, wake, delivery", () => {
  const KEY = "agent:main:main";
  const texts = async (service: AgentService) =>
    (await service.store.history(KEY)).map((message) => `${message.role}:${chatMessageText(message)}`);

  it("/new and /reset start a new session in any channel, keeping the old transcript; text after it runs there", async () => {
    const { client, service, problems } = await start();
    await (await service.send(KEY, "first words")).done;
    const before = service.store.get(KEY)!.sessionId;
    const reset = await client.request("chat.send", { sessionKey: KEY, message: "/new" });
    expect(reset.status).toBe("started");
    expect(service.store.get(KEY)!.sessionId).not.toBe(before);
    expect(await texts(service)).toEqual(["system:Started a new session."]);
    const run = await service.send(KEY, "/reset and then this", { origin: { channel: "telegram", peer: "42" } });
    expect((await run.done).text).toBe("and then this");
    expect(run.origin).toEqual({ channel: "telegram", peer: "42" });
    expect(service.store.get(KEY)!.origin).toEqual({ channel: "telegram", peer: "42" });
    expect(await texts(service)).toEqual(["user:and then this", "assistant:and then this"]);
    expect(problems).toEqual([]);
  });

  it("an idle session starts over on the next message; daily resets at the configured hour", async () => {
    const { service } = await start(undefined, 0, { resetPolicy: { mode: "idle", idleMinutes: 5 } });
    await (await service.send(KEY, "old")).done;
    const first = service.store.get(KEY)!;
    await (await service.send(KEY, "still fresh")).done;
    expect(service.store.get(KEY)!.sessionId).toBe(first.sessionId);
    first.updatedAt = Date.now() - 6 * 60_000;
    await (await service.send(KEY, "after a break")).done;
    expect(service.store.get(KEY)!.sessionId).not.toBe(first.sessionId);
    expect(await texts(service)).toEqual(["user:after a break", "assistant:after a break"]);

    service.configure({ resetPolicy: { mode: "daily", atHour: new Date().getHours() } });
    const today = service.store.get(KEY)!;
    await (await service.send(KEY, "same day")).done;
    expect(service.store.get(KEY)!.sessionId).toBe(today.sessionId);
    today.updatedAt = Date.now() - 25 * 3_600_000;
    await (await service.send(KEY, "next day")).done;
    expect(service.store.get(KEY)!.sessionId).not.toBe(today.sessionId);
  });

  it("adds each run's token usage to the session", async () => {
    const { client, service } = await start();
    await (await service.send(KEY, "count these four words")).done;
    const listed = await client.request("sessions.list", {});
    expect(listed.sessions[0]).toMatchObject({ key: KEY, inputTokens: 4, outputTokens: 4, totalTokens: 8 });
  });

  it("wake runs the main session now with the text, or keeps it for the next run", async () => {
    const { client, service } = await start();
    await client.request("wake", { mode: "next-heartbeat", text: "the build is green" });
    expect(await texts(service)).toEqual(["system:the build is green"]);
    const run = await service.send(KEY, "anything new?");
    expect((await run.done).text).toMatch(/^System: \[[^\]]+\] the build is green\n\nanything new\?$/);
    await client.request("wake", { mode: "now", text: "disk almost full" });
    await eventually(async () =>
      expect((await texts(service)).slice(-2)).toEqual([
        "system:disk almost full",
        expect.stringMatching(/^assistant:System: \[[^\]]+\] disk almost full$/),
      ]),
    );
  });

  it("agent with deliver and no channel is refused with what is missing", async () => {
    const { client } = await start();
    await expect(
      client.request("agent", { message: "hi", deliver: true, channel: "telegram", to: "42", idempotencyKey: "d1" }),
    ).rejects.toMatchObject({ code: "INVALID_REQUEST", message: expect.stringMatching(/no channels are configured/) });
  });

  it("refuses a message over session.maxMessageBytes and, once the transcript is full, everything but /new", async () => {
    const { client, service } = await start(undefined, 0, { maxMessageBytes: 2048, maxTranscriptBytes: 4096 });
    await expect(client.request("chat.send", { sessionKey: KEY, message: "x".repeat(3000) })).rejects.toMatchObject({
      code: "INVALID_REQUEST",
      message: "message too large: 3 KB; the limit is 2 KB (session.maxMessageBytes)",
    });
    expect(await texts(service)).toEqual([]);
    await (await service.send(KEY, "y".repeat(1500))).done;
    await expect(client.request("chat.send", { sessionKey: KEY, message: "w".repeat(1000) })).rejects.toMatchObject({
      message: expect.stringMatching(/transcript is full \(4 KB, session.maxTranscriptBytes\): send \/new/),
    });
    // A channel sender gets the reason as the reply; nothing ran.
    const reply = await service.answer(
      { channel: "telegram", accountId: "default", peer: "7", chatType: "direct" },
      "z".repeat(1000),
    );
    expect(reply).toMatch(/^Sorry, I could not take that message: this session's transcript is full/);
    expect((await client.request("chat.send", { sessionKey: KEY, message: "/new" })).status).toBe("started");
    expect((await (await service.send(KEY, "fresh start")).done).text).toBe("fresh start");
  });
});
