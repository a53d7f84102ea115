// A model that cannot be reached (the README's Ollama recipe with no Ollama running): the error names the provider,
// the URL and the fix, is logged, shows in status and health, a failing heartbeat says so, and /metrics counts it.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createGatewayClient } from "@gateway/client";
import { eventually } from "@gateway/vitest-preset/wait";
import { afterEach, expect, it } from "vitest";
import { createGateway, type Gateway } from "../src/index.js";

const TOKEN = "model-errors-test-token-0123456789";
const dirs: string[] = [];
const gateways: Gateway[] = [];
afterEach(async () => {
  for (const gateway of gateways.splice(0)) await gateway.close();
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

async function closedPort(): Promise<number> {
  const probe = createServer();
  await new Promise<void>((resolve) => probe.listen(0, "127.0.0.1", resolve));
  const port = (probe.address() as { port: number }).port;
  await new Promise((resolve) => probe.close(resolve));
  return port;
}

it("a model that is down is named, logged, shown in status/health and counted in /metrics", async () => {
  const stateDir = mkdtempSync(join(tmpdir(), "gateway-model-errors-"));
  dirs.push(stateDir);
  const baseUrl = `http://127.0.0.1:${await closedPort()}/v1`;
  writeFileSync(
    join(stateDir, "gateway.json5"),
    JSON.stringify({
      gateway: { port: 0, auth: { token: TOKEN } },
      models: { providers: { ollama: { baseUrl, models: [{ id: "llama3.1" }] } } },
      agents: { defaults: { model: "ollama/llama3.1", backend: "openai" } },
      heartbeat: { every: "30m" },
    }),
  );
  const gateway = createGateway({ stateDir, version: "9.9.9", logging: { stdout: false } });
  gateways.push(gateway);
  const address = await gateway.listen();
  const run = await gateway.agent.send("agent:main:main", "hello");
  const outcome = await run.done;
  expect(outcome.stopReason).toBe("error");
  expect(outcome.error).toMatch(new RegExp(`^model ollama/llama3\\.1 at ${baseUrl.replace(/[./]/g, "\\$&")} failed: `));
  expect(outcome.error).toMatch(/ — nothing answers at .*start the model server/);

  const client = createGatewayClient({ url: address.url, token: TOKEN, reconnect: false });
  try {
    await client.ready();
    const status = await client.request("status");
    expect(status.warnings.join("\n")).toMatch(/^last model error at \d{4}-\d\d-\d\dT.*: model ollama\/llama3\.1 at /m);
    const health = await client.request("health");
    expect(health.gateway.warnings.join("\n")).toMatch(/last model error/);

    // The heartbeat runs through the same model: it fails, and says so in status instead of failing in silence.
    const beat = await gateway.heartbeat.runOnce("test");
    expect(beat.status).toBe("failed");
    const after = await client.request("status");
    expect(after.warnings.join("\n")).toMatch(/heartbeat failing: the last one \(.*\) failed: model ollama\/llama3\.1/);
  } finally {
    client.close();
  }

  // The log file is written asynchronously: what was logged is there a moment later.
  await eventually(() => {
    const log = readFileSync(join(stateDir, "logs", "gateway.log"), "utf8");
    expect(log).toMatch(/"level":50.*"provider":"ollama".*model ollama\/llama3\.1 at .* failed/);
    expect(log).toMatch(/heartbeat failed: model ollama/);
  });

  const metrics = await (
    await fetch(`http://127.0.0.1:${address.port}/metrics`, { headers: { authorization: `Bearer ${TOKEN}` } })
  ).text();
  expect(metrics).toMatch(/gateway_agent_runs_total\{backend="openai",outcome="error"\} 2/);
  expect(metrics).toMatch(/gateway_model_errors_total\{provider="ollama"\} 2/);
  expect(metrics).toMatch(/gateway_model_run_duration_seconds_count\{provider="ollama"\} 2/);
  expect(metrics).toMatch(/gateway_build_info\{version="9\.9\.9",node="[\d.]+",protocol="4"\} 1/);
  expect(metrics).toMatch(/gateway_event_loop_delay_seconds\{quantile="0\.99"\} [\d.e-]+/);
});
