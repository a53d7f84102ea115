// The reference's CLI (`openclaw`, pinned) against our gateway: its higher-level commands and `gateway call` for the
// methods its clients need. Each must exit 0 and show what our gateway holds.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type InteropGateway, referenceOrSkip, startInteropGateway } from "./support/reference-cli.js";

const reference = referenceOrSkip();

describe.skipIf(!reference)("the reference CLI against our gateway", () => {
  let gw: InteropGateway;
  beforeAll(async () => {
    gw = await startInteropGateway(reference!);
  });
  afterAll(async () => gw?.close());

  it("status: reaches the gateway and reports it", async () => {
    const run = await gw.cli(["status", "--json"]);
    expect(run.code, run.stderr).toBe(0);
    const status = JSON.parse(run.stdout);
    expect(status.gateway).toMatchObject({ reachable: true, url: gw.url, error: null });
    expect(status.gateway.self.version).toBe("0.0.0-interop");
  });

  it("health: prints our event loop figures and the default agent", async () => {
    const run = await gw.cli(["health"]);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toMatch(/Gateway event loop: ok/);
    expect(run.stdout).toMatch(/Agents: main \(default\)/);
  });

  it("cron list: an empty inventory, then the job added through the CLI", async () => {
    const empty = await gw.cli(["cron", "list", "--json"]);
    expect(empty.code, empty.stdout + empty.stderr).toBe(0);
    expect(JSON.parse(empty.stdout).jobs).toEqual([]);
    const add = await gw.cli([
      "cron",
      "add",
      "--name",
      "interop-ping",
      "--every",
      "1h",
      "--system-event",
      "ping from interop",
      "--json",
    ]);
    expect(add.code, add.stdout + add.stderr).toBe(0);
    const listed = await gw.cli(["cron", "list", "--json"]);
    expect(listed.code, listed.stdout + listed.stderr).toBe(0);
    expect(JSON.parse(listed.stdout).jobs.map((job: { name: string }) => job.name)).toEqual(["interop-ping"]);
  });

  it("logs: shows our log records as readable lines", async () => {
    const run = await gw.cli(["logs", "--limit", "20", "--plain"]);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toMatch(/gateway listening/);
    expect(run.stdout).not.toMatch(/"level":\d+/);
  });

  it("models list: runs against the gateway", async () => {
    const run = await gw.cli(["models", "list", "--json"]);
    expect(run.code, run.stdout + run.stderr).toBe(0);
  });
});
