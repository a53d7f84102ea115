import { spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { createServer, type IncomingMessage } from "node:http";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import type { CronAddParams, CronEvent } from "@gateway/protocol";
import { until } from "@gateway/vitest-preset/wait";
import { afterEach, describe, expect, it } from "vitest";
import { type CronHost, CronService, type CronServiceOptions } from "../src/index.js";

const here = dirname(fileURLToPath(import.meta.url));
const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

/** A scheduler over a fake clock and a host that records what it was asked. */
function setup(options: Partial<CronServiceOptions> = {}, stateDir?: string) {
  const dir = stateDir ?? mkdtempSync(join(tmpdir(), "cron-"));
  if (!stateDir) dirs.push(dir);
  const clock = { now: Date.parse("2026-11-22T08:00:00Z") };
  const calls: string[] = [];
  const events: CronEvent[] = [];
  const replies: Array<{ status: "ok" | "error" | "aborted"; text: string; error?: string }> = [];
  const host: CronHost = {
    mainSessionKey: "agent:main:main",
    systemEvent: async (text, { sessionKey, wake }) => {
      calls.push(`system ${sessionKey} ${wake}: ${text}`);
    },
    agentTurn: async (message, { sessionKey, timeoutMs }) => {
      calls.push(`turn ${sessionKey} ${timeoutMs}: ${message}`);
      return replies.shift() ?? { status: "ok", text: `done: ${message}` };
    },
    broadcast: (_event, payload) => events.push(payload),
  };
  const service = new CronService({ stateDir: dir, host, now: () => clock.now, ...options });
  const advance = async (ms: number) => {
    clock.now += ms;
    service.runDue();
    await service.idle();
  };
  return { service, clock, calls, events, replies, host, dir, advance };
}

/** The params of an isolated agent-turn job (the shape most tests add), with overrides. */
function agentJob(name: string, message: string, extra: Partial<CronAddParams> = {}): CronAddParams {
  return {
    name,
    schedule: { kind: "every", everyMs: 3_600_000 },
    sessionTarget: "isolated",
    wakeMode: "now",
    payload: { kind: "agentTurn", message },
    ...extra,
  };
}

describe("cron service", () => {
  it("a clock jump forward runs what became due within recheckMs, without anyone calling runDue", async () => {
    const { service, clock, calls } = setup({ recheckMs: 30 });
    await service.start();
    await service.add(agentJob("hourly", "check the mail"));
    // The wall clock moves an hour on (a resumed VM); no timer of an hour has elapsed.
    clock.now += 3_600_000;
    await until(() => calls.length === 1, { timeoutMs: 2_000, message: "the job to run after the jump" });
    expect(calls[0]).toMatch(/check the mail/);
    service.stop();
  });

  it("pages the inventory with nextOffset and a revision that changes only when a job does", async () => {
    const { service } = setup();
    await service.start();
    for (const name of ["a", "b", "c"]) await service.add(agentJob(name, name));
    const first = service.list({ limit: 2 });
    expect(first).toMatchObject({ total: 3, offset: 0, limit: 2, hasMore: true, nextOffset: 2 });
    const last = service.list({ limit: 2, offset: first.nextOffset! });
    expect(last).toMatchObject({
      offset: 2,
      hasMore: false,
      nextOffset: null,
      snapshotRevision: first.snapshotRevision,
    });
    await service.add(agentJob("d", "d"));
    expect(service.list({ limit: 2 }).snapshotRevision).not.toBe(first.snapshotRevision);
    service.stop();
  });

  it("runs an every-job on time, keeps its state and a run log", async () => {
    const { service, calls, advance, events } = setup();
    await service.start();
    const job = await service.add({
      name: "check mail",
      schedule: { kind: "every", everyMs: 15 * 60_000 },
      sessionTarget: "isolated",
      wakeMode: "now",
      payload: { kind: "agentTurn", message: "anything new?", timeoutSeconds: 30 },
    });
    expect(job.state.nextRunAtMs).toBe(Date.parse("2026-11-22T08:15:00Z"));
    await advance(14 * 60_000);
    expect(calls).toEqual([]);
    await advance(60_000);
    expect(calls).toEqual([`turn cron:${job.id} 30000: anything new?`]);
    const state = service.get(job.id)!.state;
    expect(state).toMatchObject({
      lastStatus: "ok",
      consecutiveErrors: 0,
      nextRunAtMs: Date.parse("2026-11-22T08:30:00Z"),
    });
    expect(state.runningAtMs).toBeUndefined();
    const runs = await service.runs({ id: job.id });
    expect(runs.entries).toHaveLength(1);
    expect(runs.entries[0]).toMatchObject({
      status: "ok",
      summary: "done: anything new?",
      sessionKey: `cron:${job.id}`,
      deliveryStatus: "not-requested",
    });
    expect(events.map((event) => event.action)).toEqual(["added", "started", "finished"]);
  });

  it("a system-event job goes into the main session with its wake mode; failures count up", async () => {
    const { service, calls, replies, advance } = setup();
    await service.start();
    const system = await service.add({
      name: "stand-up",
      schedule: { kind: "cron", expr: "0 9 * * *", tz: "UTC" },
      sessionTarget: "main",
      wakeMode: "next-heartbeat",
      payload: { kind: "systemEvent", text: "stand-up in 5 minutes" },
    });
    await advance(3_600_000);
    expect(calls).toEqual(["system agent:main:main next-heartbeat: stand-up in 5 minutes"]);
    expect(service.get(system.id)!.state.nextRunAtMs).toBe(Date.parse("2026-11-23T09:00:00Z"));
    const failing = await service.add({
      name: "flaky",
      schedule: { kind: "every", everyMs: 60_000 },
      sessionTarget: "isolated",
      wakeMode: "now",
      payload: { kind: "agentTurn", message: "try" },
    });
    replies.push(
      { status: "error", text: "", error: "model overloaded" },
      { status: "error", text: "", error: "model overloaded" },
    );
    await advance(60_000);
    await advance(60_000);
    expect(service.get(failing.id)!.state).toMatchObject({
      lastStatus: "error",
      lastError: "model overloaded",
      consecutiveErrors: 2,
    });
    await advance(60_000);
    expect(service.get(failing.id)!.state).toMatchObject({ lastStatus: "ok", consecutiveErrors: 0 });
    expect(service.get(failing.id)!.state.lastError).toBeUndefined();
  });

  it("an at-job runs once and is deleted after success, or kept disabled with deleteAfterRun false", async () => {
    const { service, advance } = setup();
    await service.start();
    const once = await service.add({
      name: "remind",
      schedule: { kind: "at", at: "2026-11-22T08:10:00Z" },
      sessionTarget: "main",
      wakeMode: "now",
      payload: { kind: "systemEvent", text: "call mum" },
    });
    const kept = await service.add({
      name: "remind and keep",
      deleteAfterRun: false,
      schedule: { kind: "at", at: "2026-11-22T08:10:00Z" },
      sessionTarget: "main",
      wakeMode: "now",
      payload: { kind: "systemEvent", text: "water plants" },
    });
    await advance(10 * 60_000);
    expect(service.get(once.id)).toBeUndefined();
    expect(service.get(kept.id)).toMatchObject({ enabled: false, state: { lastStatus: "ok" } });
    expect((await service.runs({ id: kept.id })).entries).toHaveLength(1);
  });

  it("refuses a job that cannot work, with the reason", async () => {
    const { service } = setup();
    await service.start();
    await expect(
      service.add({
        name: "x",
        schedule: { kind: "cron", expr: "0 9 * * *", tz: "Nowhere/City" },
        sessionTarget: "main",
        wakeMode: "now",
        payload: { kind: "systemEvent", text: "x" },
      }),
    ).rejects.toMatchObject({ code: "INVALID_REQUEST", message: expect.stringMatching(/unknown time zone/) });
    await expect(
      service.add({
        name: "x",
        schedule: { kind: "every", everyMs: 1000 },
        sessionTarget: "isolated",
        wakeMode: "now",
        payload: { kind: "systemEvent", text: "x" },
      }),
    ).rejects.toMatchObject({ message: expect.stringMatching(/runs in the main session/) });
    await expect(service.update("missing", { enabled: false })).rejects.toMatchObject({ code: "INVALID_REQUEST" });
  });

  it("keeps at most maxConcurrentRuns running; a job never runs twice at once", async () => {
    let release!: () => void;
    const gate = new Promise<void>((resolve) => {
      release = resolve;
    });
    const { service, host } = setup({ maxConcurrentRuns: 1 });
    let active = 0;
    let peak = 0;
    host.agentTurn = async (message) => {
      active++;
      peak = Math.max(peak, active);
      await gate;
      active--;
      return { status: "ok", text: message };
    };
    await service.start();
    const add = (name: string) => service.add(agentJob(name, name));
    const a = await add("a");
    const b = await add("b");
    await service.run(a.id);
    expect(await service.run(a.id)).toEqual({ ran: false, reason: "already-running" });
    await service.run(b.id);
    expect(service.status().running).toBe(1);
    release();
    await service.idle();
    expect(peak).toBe(1);
    expect((await service.runs({ scope: "all" })).total).toBe(2);
  });
});

describe("run log", () => {
  it("is trimmed to its newest half when it grows past maxLogBytes", async () => {
    const { service, advance, dir } = setup({ maxLogBytes: 4_096 });
    await service.start();
    const job = await service.add({
      name: "chatty",
      schedule: { kind: "every", everyMs: 60_000 },
      sessionTarget: "isolated",
      wakeMode: "now",
      payload: { kind: "agentTurn", message: "x".repeat(200) },
    });
    for (let minute = 0; minute < 40; minute++) await advance(60_000);
    const { statSync } = await import("node:fs");
    const log = join(dir, "cron", "runs", `${job.id}.jsonl`);
    expect(statSync(log).size).toBeLessThanOrEqual(4_096 + 1_000);
    const runs = await service.runs({ id: job.id, limit: 200 });
    expect(runs.total).toBeGreaterThan(3);
    expect(runs.total).toBeLessThan(40);
    expect(runs.entries[0]!.ts).toBe(Date.parse("2026-11-22T08:40:00Z")); // the newest is kept
  });
});

describe("restarts", () => {
  it("a run interrupted by a kill is reported after the restart, never silently lost", async () => {
    const dir = mkdtempSync(join(tmpdir(), "cron-kill-"));
    dirs.push(dir);
    const child = spawn(
      process.execPath,
      ["--conditions=@gateway/source", "--import", "tsx", join(here, "fixtures", "cron-child.ts"), dir],
      {
        cwd: join(here, ".."),
        stdio: ["ignore", "pipe", "inherit"],
      },
    );
    await new Promise<void>((resolve) =>
      child.stdout!.on("data", (chunk) => String(chunk).includes("STARTED") && resolve()),
    );
    child.kill("SIGKILL");
    await new Promise((resolve) => child.once("exit", resolve));
    const { service, calls, events, clock } = setup({}, dir);
    clock.now = Date.now(); // the child ran on the real clock; its next hourly run is not due yet
    await service.start();
    const [job] = service.list().jobs;
    expect(job!.state).toMatchObject({
      lastStatus: "error",
      consecutiveErrors: 1,
      lastError: expect.stringMatching(/^interrupted: the gateway stopped during this run/),
    });
    expect(job!.state.runningAtMs).toBeUndefined();
    const runs = await service.runs({ id: job!.id });
    expect(runs.entries[0]).toMatchObject({
      status: "error",
      deliveryStatus: "unknown",
      error: expect.stringMatching(/interrupted/),
    });
    expect(events).toContainEqual(expect.objectContaining({ action: "finished", status: "error" }));
    expect(calls).toEqual([
      expect.stringMatching(/^system agent:main:main next-heartbeat: Cron job "long report" was interrupted/),
    ]);
    // reported once: a second restart finds nothing unfinished
    const again = setup({}, dir);
    again.clock.now = Date.now();
    await again.service.start();
    await again.service.idle();
    expect(again.calls).toEqual([]);
  }, 30_000);

  for (const [policy, expected] of [
    ["once", 1],
    ["skip", 0],
    ["all", 3],
  ] as const) {
    it(`catch-up "${policy}": runs missed while down → ${expected} run(s), then back on schedule`, async () => {
      const first = setup();
      await first.service.start();
      const job = await first.service.add(agentJob("hourly", "tick"));
      first.service.stop();
      // Down for three and a half hours: 09:00, 10:00 and 11:00 were missed.
      const second = setup({ catchUp: policy, catchUpMax: 10 }, first.dir);
      second.clock.now = Date.parse("2026-11-22T11:30:00Z");
      await second.service.start();
      await second.service.idle();
      expect(second.calls.filter((call) => call.startsWith("turn "))).toHaveLength(expected);
      expect(second.service.get(job.id)!.state.nextRunAtMs).toBe(Date.parse("2026-11-22T12:00:00Z"));
      // Nothing skipped in silence: the run log, a cron event, cron.status and the next heartbeat all say it.
      const skipped = 3 - expected;
      const missed = (await second.service.runs({ id: job.id, status: "skipped" })).entries;
      expect(missed).toHaveLength(skipped ? 1 : 0);
      expect(second.service.status().missedRuns).toBe(skipped);
      if (skipped) {
        const reason = `missed: 3 due time(s) from 2026-11-22T09:00:00.000Z to 2026-11-22T11:00:00.000Z passed while the gateway was down; ${skipped} skipped`;
        expect(missed[0]).toMatchObject({ jobName: "hourly", runAtMs: Date.parse("2026-11-22T09:00:00Z") });
        expect(missed[0]!.error).toContain(reason);
        expect(second.events).toContainEqual(expect.objectContaining({ jobId: job.id, status: "skipped" }));
        expect(second.calls).toContainEqual(
          expect.stringMatching(/^system agent:main:main next-heartbeat: Cron job "hourly" missed: 3/),
        );
      }
    });
  }

  for (const [policy, expected] of [
    ["once", 1],
    ["skip", 0],
  ] as const) {
    it(`a scheduled run cut short by a crash counts as missed: catch-up "${policy}" runs it ${expected} time(s)`, async () => {
      const first = setup({ instanceId: "a" });
      first.host.agentTurn = () => new Promise(() => {}); // the process dies during the turn
      await first.service.start();
      const job = await first.service.add(agentJob("hourly", "tick"));
      first.clock.now = Date.parse("2026-11-22T09:00:00Z");
      first.service.runDue();
      await until(async () => (await first.service.store.records(job.id)).length === 1, { message: "the start" });
      first.service.stop();
      const second = setup({ catchUp: policy }, first.dir);
      second.clock.now = Date.parse("2026-11-22T09:20:00Z");
      await second.service.start();
      await second.service.idle();
      expect(second.calls.filter((call) => call.startsWith("turn "))).toHaveLength(expected);
      const entries = (await second.service.runs({ id: job.id })).entries;
      expect(entries.find((entry) => entry.error?.startsWith("interrupted"))!.error).toMatch(
        /^interrupted: the gateway stopped during this run \(started 2026-11-22T09:00:00.000Z on instance a\)/,
      );
      expect(entries.filter((entry) => entry.status === "ok")).toHaveLength(expected);
      expect(second.service.get(job.id)!.state.nextRunAtMs).toBe(Date.parse("2026-11-22T10:00:00Z"));
    });
  }

  it("cron.runs with scope all keeps the runs of one-shot jobs after they are deleted", async () => {
    const { service, clock } = setup();
    await service.start();
    const once = await service.add(
      agentJob("once", "now", { schedule: { kind: "at", at: new Date(clock.now + 1000).toISOString() } }),
    );
    await service.run(once.id);
    await service.idle();
    expect(service.get(once.id)).toBeUndefined();
    const all = await service.runs({ scope: "all" });
    expect(all.entries).toContainEqual(expect.objectContaining({ jobId: once.id, status: "ok" }));
  });
});

describe("webhook delivery", () => {
  it("POSTs the finished run with the bearer token, retrying server errors with backoff", async () => {
    const received: Array<{ headers: IncomingMessage["headers"]; body: Record<string, unknown> }> = [];
    let failures = 2;
    const server = createServer(async (request, response) => {
      let raw = "";
      for await (const chunk of request) raw += chunk;
      received.push({ headers: request.headers, body: JSON.parse(raw) });
      response.writeHead(failures-- > 0 ? 503 : 200).end();
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const url = `http://127.0.0.1:${(server.address() as { port: number }).port}/hook`;
    try {
      const { service } = setup({ webhook: { token: "hook-secret", backoffMs: 10, attempts: 4 } });
      await service.start();
      const job = await service.add(agentJob("digest", "summarize", { delivery: { mode: "webhook", to: url } }));
      await service.run(job.id);
      await service.idle();
      expect(received).toHaveLength(3);
      expect(received[2]!.headers.authorization).toBe("Bearer hook-secret");
      expect(received[2]!.body).toMatchObject({
        jobId: job.id,
        jobName: "digest",
        status: "ok",
        summary: "done: summarize",
      });
      expect((await service.runs({ id: job.id })).entries[0]).toMatchObject({
        delivered: true,
        deliveryStatus: "delivered",
      });

      // a 4xx is not retried; the run stays ok, the delivery is reported as failed
      failures = 0;
      const gone = await service.add({
        name: "gone",
        schedule: { kind: "every", everyMs: 3_600_000 },
        sessionTarget: "isolated",
        wakeMode: "now",
        payload: { kind: "agentTurn", message: "x" },
        delivery: { mode: "webhook", to: `${url.replace("127.0.0.1", "localhost")}?reject` },
      });
      server.removeAllListeners("request");
      server.on("request", (_request, response) => {
        received.push({ headers: {}, body: {} });
        response.writeHead(410).end();
      });
      const before = received.length;
      await service.run(gone.id);
      await service.idle();
      expect(received.length - before).toBe(1);
      expect((await service.runs({ id: gone.id })).entries[0]).toMatchObject({
        status: "ok",
        delivered: false,
        deliveryStatus: "not-delivered",
        deliveryError: expect.stringMatching(/answered 410/),
      });
    } finally {
      server.closeAllConnections();
      server.close();
    }
  });
});
