// The reference's CLI (`openclaw`, pinned) against our gateway: its higher-level commands and `gateway call` for the
// methods its clients need. Each must exit 0 and show what our gateway holds.
import { type FakeTelegram, startFakeTelegram } from "@gateway/fakes";
import { eventually } from "@gateway/vitest-preset/wait";
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

  it("sessions: lists the sessions (the reference reads its own store for this command)", async () => {
    const run = await gw.cli(["sessions", "--json"]);
    expect(run.code, run.stdout + run.stderr).toBe(0);
  });

  it("agent: runs a turn through our gateway and prints the reply", async () => {
    const run = await gw.cli(["agent", "--message", "hello from the reference CLI", "--json"]);
    expect(run.code, run.stdout + run.stderr).toBe(0);
    expect(JSON.parse(run.stdout)).toMatchObject({
      status: "ok",
      sessionKey: "agent:main:main",
      summary: expect.stringMatching(/hello from the reference CLI$/),
    });
    const history = await gw.call("chat.history", { sessionKey: "agent:main:main" });
    expect(history.messages.map((message: { role: string }) => message.role)).toEqual(["user", "assistant"]);
    expect(history.messages[0].content).toEqual([{ type: "text", text: "hello from the reference CLI" }]);
  });

  it("channels status: reaches the gateway and says no channel is configured", async () => {
    const run = await gw.cli(["channels", "status"]);
    expect(run.code, run.stdout + run.stderr).toBe(0);
    expect(run.stdout).toMatch(/Gateway reachable/);
    expect(run.stdout).toMatch(/no channels configured/);
  });

  it("sessions compact: compacts through our gateway", async () => {
    const run = await gw.cli(["sessions", "compact", "agent:main:main"]);
    expect(run.code, run.stdout + run.stderr).toBe(0);
    expect(run.stdout).toMatch(/No compaction needed for session agent:main:main/);
  });

  it("cron run: runs the job added earlier, found by id", async () => {
    const { jobs } = await gw.call("cron.list", {});
    const run = await gw.cli(["cron", "run", jobs[0].id]);
    expect(run.code, run.stdout + run.stderr).toBe(0);
    await eventually(async () => {
      const runs = await gw.call("cron.runs", { id: jobs[0].id });
      expect(runs.entries.length).toBeGreaterThan(0);
    });
  });
});

/** `openclaw gateway call <method>` for each method the reference's clients need: exit 0 and our real answer. */
describe.skipIf(!reference)("the reference CLI's gateway call against our gateway", () => {
  let gw: InteropGateway;
  beforeAll(async () => {
    gw = await startInteropGateway(reference!);
    await gw.call("agent", { message: "first words", idempotencyKey: "interop-1" });
  });
  afterAll(async () => gw?.close());

  const cases: Array<[method: string, params: Record<string, unknown>, expected: (result: any) => void]> = [
    [
      "chat.startup",
      { sessionKey: "agent:main:main" },
      (result) => {
        expect(result.messages[0]).toMatchObject({ role: "user", content: [{ type: "text", text: "first words" }] });
        expect(result.defaults.modelSelectionTarget).toBe("session");
      },
    ],
    ["chat.metadata", { agentId: "main" }, (result) => expect(result.identity.agentId).toBe("main")],
    [
      "sessions.describe",
      { key: "agent:main:main" },
      (result) => {
        expect(result.session).toMatchObject({ key: "agent:main:main", kind: "direct", isMain: true });
      },
    ],
    ["sessions.subscribe", {}, (result) => expect(result).toEqual({ subscribed: true })],
    ["sessions.unsubscribe", {}, (result) => expect(result).toEqual({ subscribed: false })],
    [
      "sessions.messages.subscribe",
      { key: "agent:main:main" },
      (result) => {
        expect(result).toEqual({ subscribed: true, key: "agent:main:main" });
      },
    ],
    [
      "sessions.messages.unsubscribe",
      { key: "agent:main:main" },
      (result) => {
        expect(result).toEqual({ subscribed: false, key: "agent:main:main" });
      },
    ],
    [
      "sessions.create",
      { key: "agent:main:interop", label: "interop" },
      (result) => {
        expect(result).toMatchObject({ ok: true, key: "agent:main:interop", runStarted: false });
      },
    ],
    [
      "sessions.send",
      { key: "agent:main:interop", message: "into the new session" },
      (result) => {
        expect(result).toMatchObject({ key: "agent:main:interop", status: "started" });
      },
    ],
    ["sessions.abort", { key: "agent:main:interop" }, (result) => expect(result.ok).toBe(true)],
    [
      "sessions.compact",
      { key: "agent:main:main", maxLines: 1 },
      (result) => {
        expect(result).toMatchObject({ ok: true, compacted: true, kept: 1, removed: 1 });
      },
    ],
    ["agents.list", {}, (result) => expect(result.agents.map((agent: { id: string }) => agent.id)).toEqual(["main"])],
    ["agent.identity.get", { agentId: "main" }, (result) => expect(result).toMatchObject({ agentId: "main" })],
    ["models.list", {}, (result) => expect(result.models).toEqual([])],
    ["tools.catalog", {}, (result) => expect(result.agentId).toBe("main")],
    ["usage.status", {}, (result) => expect(result.totals.totalTokens).toBeGreaterThan(0)],
    ["usage.cost", { days: 7 }, (result) => expect(result.totals.totalCost).toBeNull()],
    [
      "config.schema.lookup",
      { path: "gateway.auth" },
      (result) => {
        expect(result.children.map((child: { key: string }) => child.key)).toContain("mode");
      },
    ],
    ["system.info", {}, (result) => expect(result.pid).toBe(process.pid)],
    ["update.status", {}, (result) => expect(result).toEqual({ sentinel: null, updateAvailable: null })],
    ["diagnostics.stability", {}, (result) => expect(result.memory.rssBytes).toBeGreaterThan(0)],
    ["skills.status", {}, (result) => expect(result.skills).toEqual([])],
    [
      "status",
      {},
      (result) => {
        expect(result.version).toBe("0.0.0-interop");
        expect(result.heartbeat.defaultAgentId).toBe("main");
        expect(result.sessions.byAgent).toEqual([expect.objectContaining({ agentId: "main", count: 2 })]);
      },
    ],
    ["health", {}, (result) => expect(result).toMatchObject({ ok: true, defaultAgentId: "main" })],
    ["cron.list", {}, (result) => expect(result).toMatchObject({ nextOffset: null, hasMore: false })],
    [
      "logs.tail",
      { limit: 5 },
      (result) => expect(JSON.parse(result.lines.at(-1))._meta.logLevelName).toMatch(/INFO|WARN/),
    ],
  ];
  for (const [method, params, expected] of cases) {
    it(`${method}`, async () => expected(await gw.call(method, params)));
  }

  it("a method we deliberately do not have is an unknown method, not a fake answer", async () => {
    const run = await gw.cli(["gateway", "call", "exec.approval.list", "--params", "{}", "--json"]);
    expect(run.code).not.toBe(0);
    expect(run.stdout + run.stderr).toMatch(/unknown method: exec\.approval\.list/);
  });
});

/** `openclaw message send` through our Telegram channel (against a fake of Telegram's Bot API). */
describe.skipIf(!reference)("the reference CLI's message send against our gateway", () => {
  let gw: InteropGateway;
  let telegram: FakeTelegram;
  beforeAll(async () => {
    telegram = await startFakeTelegram();
    const botToken = telegram.addBot("interop_bot");
    gw = await startInteropGateway(reference!, {
      channels: { telegram: { apiRoot: telegram.apiRoot, pollTimeoutSeconds: 1, accounts: { default: { botToken } } } },
    });
  });
  afterAll(async () => {
    await gw?.close();
    await telegram?.close();
  });

  it("delivers the message to the chat; an action this gateway does not build is refused, saying so", async () => {
    const run = await gw.cli(["message", "send", "--channel", "telegram", "--target", "4242", "--message", "hi there"]);
    expect(run.code, run.stdout + run.stderr).toBe(0);
    await telegram.until(() => telegram.sent().some((sent) => String(sent.chat_id) === "4242"));
    expect(telegram.sent().find((sent) => String(sent.chat_id) === "4242")?.text).toBe("hi there");
    // The reference CLI refuses an unknown channel or account itself; an action we do not build is ours to refuse.
    const refused = await gw.cli([
      "gateway",
      "call",
      "message.action",
      "--json",
      "--params",
      JSON.stringify({ channel: "telegram", action: "react", params: {}, idempotencyKey: "interop-react" }),
    ]);
    expect(refused.code).not.toBe(0);
    expect(JSON.parse(refused.stdout).error.message).toMatch(
      /^message\.action "react" is not supported by this gateway/,
    );
  });
});
