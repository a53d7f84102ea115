// /metrics holds what an operator graphs, fed by the packages that own each figure: agent runs from the agent,
// cron runs from cron (channel messages: packages/server/test/channels.test.ts; model errors: model-errors.test.ts).
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createGatewayClient } from "@gateway/client";
import { eventually } from "@gateway/vitest-preset/wait";
import { afterEach, expect, it } from "vitest";
import { createGateway, type Gateway } from "../src/index.js";

const TOKEN = "metrics-test-token-0123456789";
const dirs: string[] = [];
const gateways: Gateway[] = [];
afterEach(async () => {
  for (const gateway of gateways.splice(0)) await gateway.close();
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

it("counts agent runs by outcome and cron runs by outcome", async () => {
  const stateDir = mkdtempSync(join(tmpdir(), "gateway-metrics-"));
  dirs.push(stateDir);
  writeFileSync(join(stateDir, "gateway.json5"), JSON.stringify({ gateway: { port: 0, auth: { token: TOKEN } } }));
  const gateway = createGateway({ stateDir, logging: { stdout: false } });
  gateways.push(gateway);
  const address = await gateway.listen();
  await (await gateway.agent.send("agent:main:main", "one")).done;
  const client = createGatewayClient({ url: address.url, token: TOKEN, reconnect: false });
  try {
    await client.ready();
    const job = await client.request("cron.add", {
      name: "digest",
      schedule: { kind: "every", everyMs: 3_600_000 },
      payload: { kind: "systemEvent", text: "tick" },
      sessionTarget: "main",
      wakeMode: "next-heartbeat",
    });
    await client.request("cron.run", { id: job.id, mode: "force" });
    const scrape = () =>
      fetch(`http://127.0.0.1:${address.port}/metrics`, { headers: { authorization: `Bearer ${TOKEN}` } }).then(
        (response) => response.text(),
      );
    // The forced run finishes after cron.run answers: scrape until it is counted.
    const metrics = await eventually(async () => {
      const text = await scrape();
      expect(text).toMatch(/gateway_cron_runs_total\{outcome="ok"\} 1/);
      return text;
    });
    expect(metrics).toMatch(/gateway_agent_runs_total\{backend="echo",outcome="stop"\} 1/);
    expect(metrics).toMatch(/# TYPE gateway_channel_messages_total counter/);
    expect(metrics).toMatch(/# TYPE gateway_bridge_events_drained_total counter/);
  } finally {
    client.close();
  }
});
