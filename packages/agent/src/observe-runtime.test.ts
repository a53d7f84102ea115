import { mkdtempSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { createRuntimeFromConfig } from "./config.js";
import { modelErrorFix, type RunObservation } from "./observe-runtime.js";

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

async function closedPort(): Promise<number> {
  const probe = createServer();
  await new Promise<void>((resolve) => probe.listen(0, "127.0.0.1", resolve));
  const port = (probe.address() as { port: number }).port;
  await new Promise((resolve) => probe.close(resolve));
  return port;
}

describe("model errors name the provider, the URL and the fix", () => {
  it("a model server that is not running (a real request to a closed port)", async () => {
    const stateDir = mkdtempSync(join(tmpdir(), "gateway-observe-"));
    dirs.push(stateDir);
    const baseUrl = `http://127.0.0.1:${await closedPort()}/v1`;
    const seen: RunObservation[] = [];
    const selected = createRuntimeFromConfig(
      {
        models: { providers: { local: { baseUrl, models: [{ id: "llama3.1" }] } } },
        agents: { defaults: { model: "local/llama3.1", backend: "openai" } },
      },
      { stateDir, observe: (observation) => seen.push(observation) },
    );
    expect(selected.model).toEqual({ provider: "local", model: "llama3.1", baseUrl });
    const events = [];
    for await (const event of selected.runtime.run("agent:main:main", "hello", {
      runId: "r1",
      signal: new AbortController().signal,
    }))
      events.push(event);
    const end = events.at(-1) as { type: string; stopReason: string; error?: string };
    expect(end).toMatchObject({ type: "run_end", stopReason: "error" });
    expect(end.error).toMatch(new RegExp(`^model local/llama3\\.1 at ${baseUrl.replace(/[./]/g, "\\$&")} failed: `));
    expect(end.error).toMatch(
      /nothing answers at .*: start the model server, or fix models\.providers\.local\.baseUrl/,
    );
    expect(seen).toHaveLength(1);
    expect(seen[0]).toMatchObject({ backend: "openai", outcome: "error", model: { provider: "local" } });
    expect(seen[0]!.error).toBe(end.error);
  });

  it("says what to do for Ollama, a refused key and an unknown model", () => {
    const ollama = { provider: "ollama", model: "llama3.1", baseUrl: "http://127.0.0.1:11434/v1" };
    expect(modelErrorFix(ollama, "Connection error.")).toMatch(/ollama serve/);
    expect(modelErrorFix(ollama, "404 model 'llama3.1' not found")).toMatch(/ollama pull llama3\.1/);
    const openai = { provider: "openai", model: "gpt-4o-mini", baseUrl: "https://api.openai.com/v1" };
    expect(modelErrorFix(openai, "401 Incorrect API key provided")).toMatch(/OPENAI_API_KEY/);
    expect(modelErrorFix(openai, "Connection error.")).toMatch(/cannot be reached from here/);
  });

  it("echo runs are observed too (no model, no rewrite)", async () => {
    const stateDir = mkdtempSync(join(tmpdir(), "gateway-observe-"));
    dirs.push(stateDir);
    const seen: RunObservation[] = [];
    const selected = createRuntimeFromConfig(
      { agents: { defaults: { backend: "echo" } } },
      { stateDir, observe: (observation) => seen.push(observation) },
    );
    for await (const _event of selected.runtime.run("k", "hi", { runId: "r", signal: new AbortController().signal }));
    expect(seen).toEqual([expect.objectContaining({ backend: "echo", outcome: "stop" })]);
    expect(seen[0]!.model).toBeUndefined();
  });
});
