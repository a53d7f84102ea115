// The contract every backend passes: streaming order, abort → aborted, failures → a run error (never a hang), the
// tool round trip (backends with tools), each queue mode through the lanes, and a session reopened by a new backend
// instance (a gateway restart). pi runs embedded and offline against the fake OpenAI endpoint; the cli backend runs
// each preset's real flags against a fake agent CLI.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { type FakeOpenAI, startFakeOpenAI } from "@gateway/fakes";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  type AgentRunEvent,
  type AgentRuntime,
  type AgentTool,
  CLI_PRESETS,
  createCliBackend,
  createEchoBackend,
  createOpenAIBackend,
  createPiBackend,
  type RunOptions,
  SessionLanes,
} from "../src/index.js";

process.env.PI_OFFLINE = "1";
const FAKE_CLI = fileURLToPath(new URL("../../../tooling/fakes/bin/fake-agent-cli.mjs", import.meta.url));
let fake: FakeOpenAI;
let root: string;
beforeAll(async () => {
  fake = await startFakeOpenAI();
  root = mkdtempSync(join(tmpdir(), "gw-backends-"));
});
afterAll(async () => {
  await fake.close();
  rmSync(root, { recursive: true, force: true });
});

async function run(
  backend: AgentRuntime,
  input: string,
  options: Partial<RunOptions> & { sessionKey?: string; onEvent?: (event: AgentRunEvent) => void } = {},
): Promise<AgentRunEvent[]> {
  const events: AgentRunEvent[] = [];
  const { sessionKey = "agent:main:main", onEvent, ...rest } = options;
  const runOptions: RunOptions = { runId: "run-1", signal: new AbortController().signal, ...rest };
  for await (const event of backend.run(sessionKey, input, runOptions)) {
    events.push(event);
    onEvent?.(event);
  }
  return events;
}

/**
 * Whether `event` shows a (slowed) run under way with more to come: its first streamed word, or — for a backend whose
 * one delta is the whole answer (the claude and codex CLIs) — its start.
 */
const isMidRun = (streamsWords: boolean, event: AgentRunEvent) =>
  event.type === (streamsWords ? "text_delta" : "run_start");

/** An `onEvent` and a promise that resolves once the run is under way (see `isMidRun`). */
function watchRun(streamsWords: boolean) {
  let resolve = () => {};
  const underWay = new Promise<void>((done) => {
    resolve = done;
  });
  return { underWay, onEvent: (event: AgentRunEvent) => isMidRun(streamsWords, event) && resolve() };
}
const textOf = (events: AgentRunEvent[]) =>
  events
    .filter((event) => event.type === "text_delta")
    .map((event) => (event as { text: string }).text)
    .join("");
const endOf = (events: AgentRunEvent[]) => events.at(-1) as Extract<AgentRunEvent, { type: "run_end" }>;

interface BackendCase {
  name: string;
  /** A backend over `dir` (the same dir again = the gateway restarted). */
  create(dir: string): AgentRuntime;
  /** Make the next answer slow, so it can be aborted or queued behind. */
  slow(): void;
  /** Make the next run fail; returns the input to send. */
  fail?(): string;
  /** What a second run's request shows of the first exchange, to prove the session was reopened. */
  remembers?(): string;
  /** Whether the answer streams word by word (not as one delta at the end). @default true */
  streamsWords?: boolean;
}

const piProvider = {
  name: "fake",
  baseUrl: "",
  apiKey: "sk-test",
  models: [{ id: "fake-model" }],
};
const cliCase = (preset: keyof typeof CLI_PRESETS): BackendCase => ({
  name: `cli (${preset} preset, fake CLI)`,
  create: (dir) =>
    createCliBackend({
      ...CLI_PRESETS[preset],
      command: FAKE_CLI,
      dataDir: dir,
      cwd: dir,
      // Read at each spawn, so `slow()` also slows a backend created before it (the lanes test creates one first).
      env: {
        get FAKE_AGENT_DELAY_MS() {
          return slowCli ? "40" : "0";
        },
      },
      parentEnv: process.env,
    }),
  slow: () => {
    slowCli = true;
  },
  fail: () => "please FAIL now",
  streamsWords: preset === "pi",
});
let slowCli = false;

const cases: BackendCase[] = [
  { name: "echo", create: () => createEchoBackend({ delayMs: 15 }), slow: () => {} },
  {
    name: "openai (fake endpoint)",
    create: () => createOpenAIBackend({ baseUrl: fake.baseUrl, apiKey: "sk-test", model: "fake-model" }),
    slow: () => fake.script({ kind: "text", chunks: ["one ", "two ", "three ", "four ", "five"], chunkDelayMs: 40 }),
    fail: () => {
      fake.script({ kind: "error", status: 500, body: JSON.stringify({ error: { message: "model overloaded" } }) });
      return "hi";
    },
  },
  {
    name: "pi (embedded, fake endpoint)",
    create: (dir) =>
      createPiBackend({
        dataDir: dir,
        workspace: join(dir, "ws"),
        provider: { ...piProvider, baseUrl: fake.baseUrl },
        model: "fake-model",
      }),
    slow: () => fake.script({ kind: "text", chunks: ["one ", "two ", "three ", "four ", "five"], chunkDelayMs: 40 }),
    fail: () => {
      // The OpenAI SDK inside pi retries a 500 twice by itself.
      const failure = {
        kind: "error" as const,
        status: 500,
        body: JSON.stringify({ error: { message: "model overloaded" } }),
      };
      fake.script(failure, failure, failure);
      return "hi";
    },
  },
  cliCase("pi"),
  cliCase("claude"),
  cliCase("codex"),
];

for (const backend of cases) {
  describe(`backend contract: ${backend.name}`, () => {
    it("streams in order: run_start, deltas, run_end whose text is the deltas", async () => {
      slowCli = false;
      const dir = mkdtempSync(join(root, "stream-"));
      const events = await run(backend.create(dir), "stream me please", { sessionId: "s-stream" });
      expect(events[0]).toMatchObject({ type: "run_start", runId: "run-1" });
      const end = endOf(events);
      expect(end).toMatchObject({ type: "run_end", stopReason: "stop" });
      expect(textOf(events)).toBe(end.text);
      expect(end.text).toContain("stream me please");
      expect(events.filter((event) => event.type === "run_end")).toHaveLength(1);
    });

    it("ends as aborted when aborted mid-stream", async () => {
      backend.slow();
      const controller = new AbortController();
      const started = Date.now();
      const events = await run(backend.create(mkdtempSync(join(root, "abort-"))), "one two three four five six seven", {
        signal: controller.signal,
        sessionId: "s-abort",
        // Abort once the run is under way, however slow the backend is to start.
        onEvent: (event) => isMidRun(backend.streamsWords ?? true, event) && controller.abort(),
      });
      slowCli = false;
      expect(endOf(events)).toMatchObject({ type: "run_end", stopReason: "aborted" });
      expect(Date.now() - started).toBeLessThan(3_000);
    });

    if (backend.fail) {
      it("turns a failure into a run error with the reason, not a hang", async () => {
        const input = backend.fail!();
        const events = await run(backend.create(mkdtempSync(join(root, "fail-"))), input, { sessionId: "s-fail" });
        expect(endOf(events)).toMatchObject({ type: "run_end", stopReason: "error" });
        expect(endOf(events).error).toMatch(/overloaded|FAIL|exited with code 3/);
      });
    }

    it("runs each queue mode through the lanes", async () => {
      const lanes = new SessionLanes(backend.create(mkdtempSync(join(root, "lanes-"))), { collectDebounceMs: 50 });
      // followup: the second waits for the first
      backend.slow();
      const first = lanes.submit("q", "first question");
      const second = lanes.submit("q", "second question", { mode: "followup" });
      expect(second.status).toBe("queued");
      const [a, b] = await Promise.all([first.done, second.done]);
      expect([a.stopReason, b.stopReason]).toEqual(["stop", "stop"]);
      expect(b.text).toContain("second question");
      // collect: two messages while busy become one run
      backend.slow();
      const busy = lanes.submit("q", "busy one");
      const c1 = lanes.submit("q", "collected A", { mode: "collect" });
      const c2 = lanes.submit("q", "collected B", { mode: "collect" });
      expect(c2.runId).toBe(c1.runId);
      const [, collected] = await Promise.all([busy.done, c1.done, c2.done]);
      expect(collected.text).toContain("collected A");
      expect(collected.text).toContain("collected B");
      // interrupt: the running one is aborted, the newest runs
      backend.slow();
      const oldRun = watchRun(backend.streamsWords ?? true);
      const old = lanes.submit("q", "old question takes long", { onEvent: oldRun.onEvent });
      await oldRun.underWay;
      const newest = lanes.submit("q", "newest question", { mode: "interrupt" });
      const [oldOutcome, newOutcome] = await Promise.all([old.done, newest.done]);
      slowCli = false;
      expect(oldOutcome.stopReason).toBe("aborted");
      expect(newOutcome).toMatchObject({ stopReason: "stop" });
      expect(newOutcome.text).toContain("newest question");
      await lanes.dispose();
    });
  });
}

describe("tool round trip (backends with tools)", () => {
  const clock: AgentTool = {
    name: "clock",
    description: "The time in a zone",
    parameters: { type: "object", properties: { zone: { type: "string" } }, required: ["zone"] },
    execute: async (args, context) => `12:00 in ${String(args.zone)} for ${context.sessionKey}`,
  };
  for (const backend of cases.filter(
    (candidate) => candidate.name.startsWith("openai") || candidate.name.startsWith("pi"),
  )) {
    it(`${backend.name}: the model calls a tool, gets its result, then answers`, async () => {
      fake.script(
        { kind: "tool_calls", calls: [{ id: "call_1", name: "clock", arguments: { zone: "UTC" } }] },
        { kind: "text", chunks: ["It ", "is ", "noon."] },
      );
      const events = await run(backend.create(mkdtempSync(join(root, "tools-"))), "what time is it?", {
        tools: [clock],
        sessionId: "s-tools",
      });
      expect(events.map((event) => event.type)).toEqual(
        expect.arrayContaining(["run_start", "tool_start", "tool_end", "text_delta", "run_end"]),
      );
      expect(events.find((event) => event.type === "tool_end")).toMatchObject({
        name: "clock",
        output: "12:00 in UTC for agent:main:main",
        isError: false,
      });
      expect(endOf(events)).toMatchObject({ stopReason: "stop", text: "It is noon." });
      const followUp = fake.requests.at(-1)!.body;
      expect(followUp.tools?.map((tool) => tool.function.name)).toContain("clock");
      expect(followUp.messages?.find((message) => message.role === "tool")).toMatchObject({
        tool_call_id: "call_1",
        content: "12:00 in UTC for agent:main:main",
      });
    });
  }
});

describe("a session reopened after a restart", () => {
  it("openai: the conversation comes back from the gateway's transcript", async () => {
    const backend = createOpenAIBackend({ baseUrl: fake.baseUrl, model: "fake-model" });
    await run(backend, "who am I?", {
      history: async () => [
        { role: "user", text: "I am Ada" },
        { role: "assistant", text: "Hi Ada" },
      ],
    });
    expect(fake.requests.at(-1)!.body.messages).toEqual([
      { role: "user", content: "I am Ada" },
      { role: "assistant", content: "Hi Ada" },
      { role: "user", content: "who am I?" },
    ]);
  });

  it("pi: a new backend over the same data dir continues the session file", async () => {
    const dir = mkdtempSync(join(root, "pi-reopen-"));
    const create = () =>
      createPiBackend({
        dataDir: dir,
        workspace: join(dir, "ws"),
        provider: { ...piProvider, baseUrl: fake.baseUrl },
        model: "fake-model",
      });
    const first = create();
    await run(first, "remember the word zebra", { sessionId: "s-1" });
    await first.dispose();
    await run(create(), "what was the word?", { sessionId: "s-1" });
    const messages = fake.requests.at(-1)!.body.messages!.map((message) => JSON.stringify(message.content));
    expect(messages.join(" ")).toContain("remember the word zebra");
    // a reset session (new id) starts empty
    await run(create(), "fresh start", { sessionId: "s-2" });
    expect(JSON.stringify(fake.requests.at(-1)!.body.messages)).not.toContain("zebra");
  });

  for (const preset of ["claude", "codex"] as const) {
    it(`cli (${preset}): the CLI's session id is kept and resumed by a new backend`, async () => {
      const dir = mkdtempSync(join(root, `cli-reopen-${preset}-`));
      await run(cliCase(preset).create(dir), "first turn", { sessionId: "s-1" });
      const second = await run(cliCase(preset).create(dir), "second turn", { sessionId: "s-1" });
      expect(endOf(second).text).toMatch(/^\[resumed [0-9a-f]{8}\] second turn/);
    });
  }
});

describe("steering with pi: folded inputs are attributed", () => {
  it("a message steered into a running turn gets its own answer and run id", async () => {
    const backend = createPiBackend({
      dataDir: mkdtempSync(join(root, "pi-steer-")),
      workspace: join(root, "ws"),
      provider: { ...piProvider, baseUrl: fake.baseUrl },
      model: "fake-model",
    });
    const lanes = new SessionLanes(backend);
    fake.script({ kind: "text", chunks: ["counting ", "one ", "two ", "three"], chunkDelayMs: 40 });
    const firstEvents: AgentRunEvent[] = [];
    const steeredEvents: AgentRunEvent[] = [];
    const firstRun = watchRun(true);
    const first = lanes.submit("s", "count to three", {
      onEvent: (event) => {
        firstEvents.push(event);
        firstRun.onEvent(event);
      },
    });
    await firstRun.underWay; // the turn is streaming: a steer goes into it
    const steered = lanes.submit("s", "and say hello", {
      mode: "steer",
      onEvent: (event) => steeredEvents.push(event),
    });
    expect(steered.status).toBe("started");
    expect(steered.runId).not.toBe(first.runId);
    const [a, b] = await Promise.all([first.done, steered.done]);
    expect(a).toMatchObject({ stopReason: "stop", text: "counting one two three" });
    expect(b).toMatchObject({ stopReason: "stop", text: "and say hello" });
    expect(textOf(firstEvents)).toBe("counting one two three");
    expect(textOf(steeredEvents)).toBe("and say hello");
    expect(steeredEvents[0]).toMatchObject({ type: "run_start", runId: steered.runId });
    expect(steeredEvents.at(-1)).toMatchObject({ type: "run_end", runId: steered.runId });
    await lanes.dispose();
  });
});
