// The contract every backend passes: streaming order, abort → aborted, failures → a run error (never a hang).
import { type FakeOpenAI, startFakeOpenAI } from "@gateway/fakes";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type AgentRunEvent, type AgentRuntime, createEchoBackend, createOpenAIBackend } from "../src/index.js";

let fake: FakeOpenAI;
beforeAll(async () => {
  fake = await startFakeOpenAI();
});
afterAll(() => fake.close());

async function run(backend: AgentRuntime, input: string, signal = new AbortController().signal) {
  const events: AgentRunEvent[] = [];
  for await (const event of backend.run("agent:main:main", input, { runId: "run-1", signal })) events.push(event);
  return events;
}

const backends: Array<{ name: string; create(): AgentRuntime; slow(): void }> = [
  { name: "echo", create: () => createEchoBackend({ delayMs: 15 }), slow: () => {} },
  {
    name: "openai (fake endpoint)",
    create: () => createOpenAIBackend({ baseUrl: fake.baseUrl, apiKey: "sk-test", model: "fake-model" }),
    slow: () => fake.script({ kind: "text", chunks: ["one ", "two ", "three ", "four ", "five"], chunkDelayMs: 30 }),
  },
];

for (const backend of backends) {
  describe(`backend contract: ${backend.name}`, () => {
    it("streams in order: run_start, deltas, run_end whose text is the deltas", async () => {
      const events = await run(backend.create(), "stream me please");
      expect(events[0]).toMatchObject({ type: "run_start", runId: "run-1" });
      const end = events.at(-1) as Extract<AgentRunEvent, { type: "run_end" }>;
      expect(end).toMatchObject({ type: "run_end", stopReason: "stop" });
      const deltas = events
        .filter((event) => event.type === "text_delta")
        .map((event) => (event as { text: string }).text);
      expect(deltas.length).toBeGreaterThan(1);
      expect(deltas.join("")).toBe(end.text);
      expect(events.filter((event) => event.type === "run_end")).toHaveLength(1);
    });

    it("ends as aborted when aborted mid-stream", async () => {
      backend.slow();
      const controller = new AbortController();
      setTimeout(() => controller.abort(), 40);
      const events = await run(backend.create(), "one two three four five six seven", controller.signal);
      expect(events.at(-1)).toMatchObject({ type: "run_end", stopReason: "aborted" });
    });
  });
}

describe("openai backend specifics", () => {
  it("sends the key, the model and the session's history, and maps usage", async () => {
    const backend = createOpenAIBackend({
      baseUrl: fake.baseUrl,
      apiKey: "sk-test",
      model: "fake-model",
      systemPrompt: "be brief",
    });
    fake.script({ kind: "text", chunks: ["Hi ", "Ada"], usage: { prompt_tokens: 7, completion_tokens: 2 } });
    const first = await run(backend, "I am Ada");
    expect(first.at(-1)).toMatchObject({
      stopReason: "stop",
      text: "Hi Ada",
      usage: { inputTokens: 7, outputTokens: 2 },
    });
    await run(backend, "who am I?");
    const request = fake.requests.at(-1)!;
    expect(request.headers.authorization).toBe("Bearer sk-test");
    expect(request.body).toMatchObject({ model: "fake-model", stream: true });
    expect(request.body.messages).toEqual([
      { role: "system", content: "be brief" },
      { role: "user", content: "I am Ada" },
      { role: "assistant", content: "Hi Ada" },
      { role: "user", content: "who am I?" },
    ]);
  });

  it("turns an HTTP error into a run error with the provider's message", async () => {
    fake.script({ kind: "error", status: 500, body: JSON.stringify({ error: { message: "model overloaded" } }) });
    const events = await run(createOpenAIBackend({ baseUrl: fake.baseUrl, model: "fake-model" }), "hi");
    expect(events.at(-1)).toMatchObject({
      type: "run_end",
      stopReason: "error",
      error: expect.stringMatching(/answered 500: model overloaded/),
    });
  });

  it("turns an unreachable endpoint into a run error", async () => {
    const events = await run(createOpenAIBackend({ baseUrl: "http://127.0.0.1:9/v1", model: "m" }), "hi");
    expect(events.at(-1)).toMatchObject({
      stopReason: "error",
      error: expect.stringMatching(/cannot reach http:\/\/127\.0\.0\.1:9\/v1/),
    });
  });
});
