import { appendFileSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { chatMessageText, textContent } from "@gateway/protocol";
import { afterEach, describe, expect, it } from "vitest";
import {
  type AgentRunEvent,
  type AgentRuntime,
  createCliBackend,
  createEchoBackend,
  createRuntimeFromConfig,
  cronSessionKey,
  SessionLanes,
  SessionStore,
  sessionKeyFor,
} from "../src/index.js";

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

/** An `onEvent` that resolves `streaming` at the first streamed word: the run is mid-stream from then on. */
function watchStream() {
  let resolve = () => {};
  const streaming = new Promise<void>((done) => {
    resolve = done;
  });
  return { streaming, onEvent: (event: AgentRunEvent) => event.type === "text_delta" && resolve() };
}

async function collect(stream: AsyncIterable<AgentRunEvent>): Promise<AgentRunEvent[]> {
  const events: AgentRunEvent[] = [];
  for await (const event of stream) events.push(event);
  return events;
}

describe("echo backend", () => {
  it("streams the input back word by word and ends with run_end", async () => {
    const echo = createEchoBackend();
    const events = await collect(
      echo.run("s", "hello big world", { runId: "r1", signal: new AbortController().signal }),
    );
    expect(events.map((event) => event.type)).toEqual([
      "run_start",
      "text_delta",
      "text_delta",
      "text_delta",
      "message_end",
      "run_end",
    ]);
    expect(
      events
        .filter((event) => event.type === "text_delta")
        .map((event) => (event as { text: string }).text)
        .join(""),
    ).toBe("hello big world");
    expect(events.at(-1)).toMatchObject({ type: "run_end", stopReason: "stop", text: "hello big world" });
  });

  it("honours abort mid-stream", async () => {
    const echo = createEchoBackend({ delayMs: 20 });
    const controller = new AbortController();
    const events: AgentRunEvent[] = [];
    for await (const event of echo.run("s", "one two three four five", { runId: "r", signal: controller.signal })) {
      events.push(event);
      if (event.type === "text_delta") controller.abort(); // after the first word: mid-stream
    }
    expect(events.at(-1)).toMatchObject({ type: "run_end", stopReason: "aborted" });
    expect((events.at(-1) as { text: string }).text.length).toBeLessThan("one two three four five".length);
  });
});

describe("session lanes", () => {
  it("runs one message at a time per session, in order, and says when one is queued", async () => {
    const lanes = new SessionLanes(createEchoBackend({ delayMs: 5 }));
    const order: string[] = [];
    const first = lanes.submit("a", "first message");
    const queuedEvents: AgentRunEvent[] = [];
    const second = lanes.submit("a", "second message", {
      mode: "followup",
      onEvent: (event) => queuedEvents.push(event),
    });
    expect(first.status).toBe("started");
    expect(second.status).toBe("queued");
    expect(queuedEvents[0]).toEqual({ type: "queued", position: 1 });
    expect(lanes.isBusy("a")).toBe(true);
    void first.done.then(() => order.push("first"));
    void second.done.then(() => order.push("second"));
    expect((await second.done).text).toBe("second message");
    expect(order).toEqual(["first", "second"]);
    expect(lanes.isBusy("a")).toBe(false);
  });

  it("caps concurrent runs across sessions", async () => {
    const lanes = new SessionLanes(createEchoBackend({ delayMs: 10 }), { maxConcurrentRuns: 1 });
    let maxRunning = 0;
    const track = () => {
      maxRunning = Math.max(maxRunning, lanes.running);
    };
    const runs = ["a", "b", "c"].map((key) => lanes.submit(key, "x y z", { onEvent: track }).done);
    await Promise.all(runs);
    expect(maxRunning).toBe(1);
  });

  it("collects messages that arrive while busy into one follow-up run", async () => {
    const lanes = new SessionLanes(createEchoBackend({ delayMs: 10 }), { collectDebounceMs: 40 });
    const first = lanes.submit("a", "busy now");
    const parts = ["one", "two", "three"].map((text) => lanes.submit("a", text, { mode: "collect" }));
    expect(new Set(parts.map((part) => part.runId)).size).toBe(1);
    const outcomes = await Promise.all(parts.map((part) => part.done));
    expect(outcomes[0]!.text).toBe("one\n\ntwo\n\nthree");
    expect((await first.done).stopReason).toBe("stop");
  });

  it("interrupts: aborts the current run, drops the queue, runs the newest", async () => {
    const lanes = new SessionLanes(createEchoBackend({ delayMs: 20 }));
    const { streaming, onEvent } = watchStream();
    const first = lanes.submit("a", "a long answer that takes a while", { onEvent });
    const dropped = lanes.submit("a", "never mind", { mode: "followup" });
    await streaming;
    const newest = lanes.submit("a", "do this instead", { mode: "interrupt" });
    expect((await first.done).stopReason).toBe("aborted");
    expect(await dropped.done).toMatchObject({ stopReason: "aborted", error: "replaced by a newer message" });
    expect(await newest.done).toMatchObject({ stopReason: "stop", text: "do this instead" });
  });

  it("falls back from steer to followup when the backend cannot steer", async () => {
    const lanes = new SessionLanes(createEchoBackend({ delayMs: 5 }));
    lanes.submit("a", "first");
    const steer = lanes.submit("a", "steered", { mode: "steer" });
    expect(steer.status).toBe("queued");
    expect((await steer.done).text).toBe("steered");
  });

  it("aborts on request and turns a throwing backend into a run error instead of a hang", async () => {
    const lanes = new SessionLanes(createEchoBackend({ delayMs: 20 }));
    const { streaming, onEvent } = watchStream();
    const run = lanes.submit("a", "one two three four", { onEvent });
    await streaming;
    expect(lanes.abort("a", "not-this-run")).toEqual([]);
    expect(lanes.abort("a")).toEqual([run.runId]);
    expect((await run.done).stopReason).toBe("aborted");

    const broken: AgentRuntime = {
      name: "broken",
      capabilities: { streaming: true, tools: false, steer: false, images: false },
      // biome-ignore lint/correctness/useYield: the point is a backend that throws before yielding
      async *run() {
        throw new Error("provider exploded");
      },
      async dispose() {},
    };
    const events: AgentRunEvent[] = [];
    const failed = new SessionLanes(broken).submit("b", "hi", { onEvent: (event) => events.push(event) });
    expect(await failed.done).toMatchObject({ stopReason: "error", error: "provider exploded" });
    expect(events.at(-1)).toMatchObject({ type: "run_end", stopReason: "error" });
  });

  it("aborts a run that exceeds its timeout", async () => {
    const lanes = new SessionLanes(createEchoBackend({ delayMs: 50 }), { runTimeoutMs: 60 });
    expect((await lanes.submit("a", "w w w w w w").done).stopReason).toBe("aborted");
  });
});

describe("session store", () => {
  const store = () => {
    const dir = mkdtempSync(join(tmpdir(), "gateway-sessions-"));
    dirs.push(dir);
    return { dir, open: () => new SessionStore(dir, "main") };
  };

  it("keeps sessions and transcripts across a restart", async () => {
    const { open } = store();
    const first = open();
    await first.ensure("agent:main:main", { channel: "telegram", peer: "42" });
    await first.append("agent:main:main", { role: "user", content: textContent("hi") });
    await first.append("agent:main:main", {
      role: "assistant",
      content: textContent("hello"),
      runId: "r1",
      stopReason: "stop",
    });
    await first.addUsage("agent:main:main", 3, 5);
    // Activity and usage are written within a moment (or on shutdown, which flushes).
    await first.flush();
    const reopened = open();
    expect(reopened.get("agent:main:main")).toMatchObject({
      origin: { channel: "telegram", peer: "42" },
      inputTokens: 3,
      outputTokens: 5,
    });
    expect(
      (await reopened.history("agent:main:main")).map((message) => `${message.role}:${chatMessageText(message)}`),
    ).toEqual(["user:hi", "assistant:hello"]);
  });

  it("reads a transcript written before content blocks as content blocks, and appends in the new shape", async () => {
    const { open } = store();
    const sessions = open();
    await sessions.ensure("k");
    const file = join(sessions.directory, `${sessions.get("k")!.sessionId}.jsonl`);
    // Lines as this gateway wrote them before the reference's message shape.
    writeFileSync(
      file,
      [
        { id: "1", role: "user", text: "old question", ts: 1_700_000_000_000 },
        { id: "2", role: "assistant", text: "old answer", ts: 1_700_000_001_000, runId: "r0", stopReason: "stop" },
        { id: "3", role: "tool", text: "tool output", ts: 1_700_000_002_000 },
        { id: "4", role: "system", text: "a background event", ts: 1_700_000_003_000, eventIds: ["e1"] },
      ]
        .map((line) => `${JSON.stringify(line)}\n`)
        .join(""),
    );
    await sessions.append("k", { role: "user", content: textContent("new question") });
    const history = await open().history("k");
    expect(history.slice(0, 4)).toEqual([
      {
        id: "1",
        role: "user",
        content: [{ type: "text", text: "old question" }],
        timestamp: 1_700_000_000_000,
        seq: 1,
      },
      {
        id: "2",
        role: "assistant",
        content: [{ type: "text", text: "old answer" }],
        timestamp: 1_700_000_001_000,
        runId: "r0",
        stopReason: "stop",
        seq: 2,
      },
      {
        id: "3",
        role: "toolResult",
        content: [{ type: "text", text: "tool output" }],
        timestamp: 1_700_000_002_000,
        seq: 3,
      },
      {
        id: "4",
        role: "system",
        content: [{ type: "text", text: "a background event" }],
        timestamp: 1_700_000_003_000,
        eventIds: ["e1"],
        seq: 4,
      },
    ]);
    expect(history[4]).toMatchObject({ role: "user", content: [{ type: "text", text: "new question" }], seq: 5 });
    // The file itself is never rewritten: the old lines stay as they were, the new one is in the new shape.
    const lines = readFileSync(file, "utf8")
      .trim()
      .split("\n")
      .map((line) => JSON.parse(line));
    expect(lines[0]).toEqual({ id: "1", role: "user", text: "old question", ts: 1_700_000_000_000 });
    expect(lines[4]).toMatchObject({ role: "user", content: [{ type: "text", text: "new question" }] });
    expect(typeof lines[4].timestamp).toBe("number");
  });

  it("skips a torn last line left by a crash mid-append, and keeps every earlier line", async () => {
    const { open } = store();
    const sessions = open();
    await sessions.append("k", { role: "user", content: textContent("kept") });
    const file = join(sessions.directory, `${sessions.get("k")!.sessionId}.jsonl`);
    appendFileSync(file, '{"id":"x","role":"assistant","text":"half');
    expect((await open().history("k")).map((message) => chatMessageText(message))).toEqual(["kept"]);
  });

  it("never overwrites an index it cannot read: keeps it aside and starts fresh", async () => {
    const { open } = store();
    const sessions = open();
    await sessions.append("k", { role: "user", content: textContent("kept") });
    writeFileSync(join(sessions.directory, "sessions.json"), "{ this is not json");
    const reopened = open();
    expect(reopened.list()).toEqual([]);
    const aside = readdirSync(sessions.directory).filter((name) => name.startsWith("sessions.json.unreadable-"));
    expect(aside).toHaveLength(1);
    expect(readFileSync(join(sessions.directory, aside[0]!), "utf8")).toBe("{ this is not json");
  });

  it("keeps every line of concurrent appends", async () => {
    const { open } = store();
    const sessions = open();
    await Promise.all(
      Array.from({ length: 50 }, (_, index) =>
        sessions.append("k", { role: "user", content: textContent(`m${index}`) }),
      ),
    );
    expect(new Set((await sessions.history("k", 100)).map((message) => chatMessageText(message))).size).toBe(50);
  });

  it("resets to a new session id keeping the old transcript, and archives on delete", async () => {
    const { open } = store();
    const sessions = open();
    await sessions.append("k", { role: "user", content: textContent("old") });
    const before = sessions.get("k")!.sessionId;
    const reset = await sessions.reset("k");
    expect(reset.sessionId).not.toBe(before);
    expect(await sessions.history("k")).toEqual([]);
    expect(readdirSync(sessions.directory)).toContain(`${before}.jsonl`);
    await sessions.append("k", { role: "user", content: textContent("new") });
    const deleted = await sessions.delete("k");
    expect(deleted.deleted).toBe(true);
    expect(deleted.archived[0]).toMatch(/\.deleted-\d+\.jsonl$/);
    expect(sessions.list()).toEqual([]);
    expect(await sessions.delete("k")).toEqual({ deleted: false, archived: [] });
  });
});

describe("session keys (PROTOCOL.md)", () => {
  const dm = { channel: "telegram", chatType: "direct" as const, peer: "42" };
  it("maps direct messages by dmScope, groups and threads by id, cron jobs by job", () => {
    expect(sessionKeyFor(dm)).toBe("agent:main:main");
    expect(sessionKeyFor(dm, { dmScope: "per-peer" })).toBe("agent:main:dm:42");
    expect(sessionKeyFor(dm, { dmScope: "per-channel-peer", agentId: "work" })).toBe("agent:work:telegram:dm:42");
    expect(sessionKeyFor({ channel: "telegram", chatType: "group", peer: "-100123" })).toBe(
      "agent:main:telegram:group:-100123",
    );
    expect(sessionKeyFor({ channel: "slack", chatType: "thread", peer: "C1", threadId: "1700.1" })).toBe(
      "agent:main:slack:group:C1:thread:1700.1",
    );
    expect(sessionKeyFor({ channel: "whatsapp", chatType: "direct", peer: "x:y" }, { dmScope: "per-peer" })).toBe(
      "agent:main:dm:x_y",
    );
    expect(cronSessionKey("daily-digest")).toBe("cron:daily-digest");
  });
});

describe("the agent CLI's environment", () => {
  it("gets the allowlisted basics and its own configured variables, never the gateway's secrets", async () => {
    const dir = mkdtempSync(join(tmpdir(), "gateway-cli-env-"));
    try {
      const backend = createCliBackend({
        command: "/bin/sh",
        args: ["-c", "env; echo '{input}' >/dev/null"],
        output: "text",
        input: "arg",
        dataDir: dir,
        cwd: dir,
        env: { ANTHROPIC_API_KEY: "configured-for-this-agent" },
        parentEnv: {
          PATH: "/usr/bin:/bin",
          HOME: "/home/ada",
          LC_ALL: "C.UTF-8",
          GATEWAY_TOKEN: "the-gateway-token-0123456789",
          OPENAI_API_KEY: "sk-the-gateway-has-this",
          TELEGRAM_BOT_TOKEN: "123:abc",
        },
      });
      let output = "";
      for await (const event of backend.run("s", "hi", { runId: "r", signal: new AbortController().signal }))
        if (event.type === "run_end") output = event.text;
      await backend.dispose();
      const variables = Object.fromEntries(
        output
          .split("\n")
          .filter((line) => line.includes("="))
          .map((line) => [line.slice(0, line.indexOf("=")), line.slice(line.indexOf("=") + 1)]),
      );
      expect(variables).toMatchObject({
        PATH: "/usr/bin:/bin",
        HOME: "/home/ada",
        LC_ALL: "C.UTF-8",
        ANTHROPIC_API_KEY: "configured-for-this-agent",
      });
      for (const secret of ["GATEWAY_TOKEN", "OPENAI_API_KEY", "TELEGRAM_BOT_TOKEN"])
        expect(variables).not.toHaveProperty(secret);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe("the runtime from the config, without the optional pi library", () => {
  const config = {
    models: { providers: { local: { baseUrl: "http://127.0.0.1:1/v1", models: [{ id: "m" }] } } },
    agents: { defaults: { model: "local/m" } },
  };
  it("auto answers through the OpenAI-compatible backend and says why; an explicit pi names the install command", async () => {
    const dir = mkdtempSync(join(tmpdir(), "gateway-runtime-"));
    dirs.push(dir);
    const auto = createRuntimeFromConfig(config, { stateDir: dir, piInstalled: () => false });
    expect(auto.backend).toBe("openai");
    expect(auto.summary).toMatch(/pi is not installed/);
    await auto.runtime.dispose();
    const withPi = createRuntimeFromConfig(config, { stateDir: dir, piInstalled: () => true });
    expect(withPi.backend).toBe("pi");
    await withPi.runtime.dispose();
    expect(() =>
      createRuntimeFromConfig(
        { ...config, agents: { defaults: { ...config.agents.defaults, backend: "pi" as const } } },
        { stateDir: dir, piInstalled: () => false },
      ),
    ).toThrow(/npm install -g @earendil-works\/pi-coding-agent@0\.74\.2/);
  });
});
