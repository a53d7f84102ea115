// Three gateway processes on one Redis, with a model (the fake OpenAI, slow on purpose so a run is in progress when
// its instance dies): started at the same instant they elect one scheduler; a job added on one instance is listed on
// another at once and keeps firing after that instance stops; kill -9 of the scheduler mid-run → the run is marked
// interrupted, a survivor takes the scheduler over within the lease and re-runs it; no due time ever starts twice;
// the heartbeat runs once across the fleet, not once per instance.
import { randomUUID } from "node:crypto";
import { existsSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { type FakeOpenAI, startFakeOpenAI } from "@gateway/fakes";
// @ts-expect-error -- a plain .mjs helper of the private vitest preset
import { useRedis } from "@gateway/vitest-preset/redis";
import { checkAvailable, until } from "@gateway/vitest-preset/wait";
import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { cli, type GatewayProcess, main, startGateway, tempDir } from "./support/gateway-process.js";

const TOKEN = "fleet-cron-e2e-token-0123456789";
const LEASE_MS = 2_000;
const JOB_MESSAGE = "fleet cron tick";
const prefix = `gateway-test-fleet-cron-${randomUUID().slice(0, 8)}:`;
let redisHandle: { url: string; stop(): Promise<void> } | undefined;
let redis: Redis;
let model: FakeOpenAI;

beforeAll(async () => {
  redisHandle = await useRedis();
  if (redisHandle) redis = new Redis(redisHandle.url);
  model = await startFakeOpenAI();
  // Every answer takes about 1.2 s, so a run is going on for most of each 2 s interval.
  for (let index = 0; index < 300; index++)
    model.script({ kind: "text", chunks: ["tick ", "done"], chunkDelayMs: 600 });
});
afterAll(async () => {
  await model?.close();
  if (redis) {
    for (const key of await redis.keys(`${prefix}*`)) await redis.del(key);
    redis.disconnect();
  }
  await redisHandle?.stop();
});

type Instance = { id: string; stateDir: string; gateway: GatewayProcess };

/** An instance of the fleet in its own state dir: the same config as the others but its id. */
async function instance(id: string): Promise<Instance> {
  const stateDir = tempDir(`gateway-fleet-cron-${id}-`);
  writeFileSync(
    join(stateDir, "gateway.json5"),
    `{
      gateway: { auth: { mode: "token", token: "${TOKEN}" } },
      redis: { url: "${redisHandle!.url}", keyPrefix: "${prefix}bridge:" },
      fleet: { enabled: true, instanceId: "${id}", leaseMs: ${LEASE_MS}, keyPrefix: "${prefix}" },
      models: { providers: { local: { baseUrl: "${model.baseUrl}", apiKey: "sk-local", models: [{ id: "fake-model" }] } } },
      agents: { defaults: { backend: "openai", model: "local/fake-model" } },
      heartbeat: { every: "1s", target: "none", watchdog: { thresholdMs: 30000 } },
    }`,
  );
  return { id, stateDir, gateway: await startGateway(stateDir, { GATEWAY_TOKEN: TOKEN }) };
}

async function json(stateDir: string, args: string[]) {
  const result = await cli(stateDir, [...args, "--json"], { GATEWAY_TOKEN: TOKEN });
  if (result.code !== 0) throw new Error(`gateway ${args.join(" ")} failed: ${result.stderr}${result.stdout}`);
  return JSON.parse(result.stdout);
}

/** Who runs the scheduler, as `gateway status --fleet` shows it. */
async function schedulers(stateDir: string): Promise<string[]> {
  const fleet = await json(stateDir, ["status", "--fleet"]);
  return fleet.members
    .filter((member: { owns: string[] }) => member.owns.includes("cron"))
    .map((member: { id: string }) => member.id);
}

/** The job's run log as Redis holds it (started records name their due time and instance). */
async function runLog(jobId: string) {
  const lines = await redis.lrange(`${prefix}cron:runs:${jobId}`, 0, -1);
  return lines.map(
    (line) =>
      JSON.parse(line) as {
        action: "started" | "finished";
        runId: string;
        ts: number;
        dueAtMs?: number;
        retryOf?: string;
        by?: string;
        status?: string;
        error?: string;
      },
  );
}

const lastUserText = (request: FakeOpenAI["requests"][number]) => {
  const content = [...(request.body.messages ?? [])].reverse().find((message) => message.role === "user")?.content;
  return typeof content === "string" ? content : (content ?? []).map((part) => part.text ?? "").join("");
};
const jobTurns = () => model.requests.filter((request) => lastUserText(request) === JOB_MESSAGE).length;
const heartbeatTurns = () =>
  model.requests.filter((request) => lastUserText(request).includes("Heartbeat: a periodic check")).length;

describe("cron across a fleet of three gateways on one Redis", () => {
  it("one scheduler; each due time starts once while the scheduler is killed -9 mid-run; the interrupted run is marked and re-run on a survivor", async (context) => {
    if (!checkAvailable(redisHandle !== undefined, "Redis (REDIS_URL, 127.0.0.1:6379 or redis-server)"))
      return context.skip();
    if (!existsSync(main)) throw new Error("build the app first: npx turbo run build --filter=gateway");
    const startedAt = Date.now();
    // Started at the same instant: one of them runs the scheduler.
    const all = await Promise.all(["a", "b", "c"].map((id) => instance(id)));
    await until(async () => (await schedulers(all[0]!.stateDir)).length === 1, {
      timeoutMs: 10_000,
      message: "one scheduler in the fleet",
    });
    const [leaderId] = await schedulers(all[0]!.stateDir);
    const leader = all.find((member) => member.id === leaderId)!;
    const [adder, survivor] = all.filter((member) => member !== leader) as [Instance, Instance];
    expect(await schedulers(survivor.stateDir)).toEqual([leaderId]);

    // Added on one instance, listed on another at once.
    const job = await json(adder.stateDir, [
      "cron",
      "add",
      "--name",
      "tick",
      "--every",
      "2s",
      "--message",
      JOB_MESSAGE,
    ]);
    const listed = await json(survivor.stateDir, ["cron", "list"]);
    expect(listed.jobs.map((listedJob: { id: string }) => listedJob.id)).toEqual([job.id]);
    const ok = async () => (await runLog(job.id)).filter((record) => record.status === "ok");
    await until(async () => (await ok()).length >= 2, { timeoutMs: 15_000, message: "two runs of the job" });

    // The instance it was added on stops; the job keeps firing (it is the fleet's, not that instance's).
    await adder.gateway.stop();
    const stoppedAt = Date.now();
    await until(async () => (await ok()).some((record) => record.ts > stoppedAt + 500), {
      timeoutMs: 10_000,
      message: "a run after the instance that added the job stopped",
    });

    // Kill the scheduler while a run of the job is going on.
    const turnsBefore = jobTurns();
    await until(() => jobTurns() > turnsBefore, { timeoutMs: 10_000, message: "a run to start" });
    leader.gateway.child.kill("SIGKILL");
    await leader.gateway.exited;
    const killedAt = Date.now();
    await until(async () => (await schedulers(survivor.stateDir)).includes(survivor.id), {
      timeoutMs: LEASE_MS * 5,
      message: "the survivor to run the scheduler",
    });
    const takeoverMs = Date.now() - killedAt;
    expect(takeoverMs).toBeLessThan(LEASE_MS + 3_000);
    await until(
      async () => (await runLog(job.id)).filter((record) => record.status === "ok" && record.ts > killedAt).length >= 3,
      { timeoutMs: 20_000, message: "the job to keep firing on the survivor" },
    );

    const records = await runLog(job.id);
    const starts = records.filter((record) => record.action === "started");
    const finished = new Map(records.filter((record) => record.action === "finished").map((r) => [r.runId, r]));
    // The run cut short is marked, naming where it ran; it was re-run once, on the survivor, for the same due time.
    const interrupted = [...finished.values()].filter((record) => record.error?.startsWith("interrupted"));
    expect(interrupted).toHaveLength(1);
    expect(interrupted[0]!.error).toContain(`on instance ${leaderId}`);
    const cutShort = starts.find((record) => record.runId === interrupted[0]!.runId)!;
    expect(cutShort.by).toBe(leaderId);
    const retry = starts.find((record) => record.retryOf === cutShort.runId)!;
    expect(retry).toMatchObject({ dueAtMs: cutShort.dueAtMs, by: survivor.id });
    expect(finished.get(retry.runId)?.status).toBe("ok");
    // Each due time started once, but for that one re-run; every start finished (ok, or marked interrupted); and the
    // model saw exactly one agent turn per start.
    const dueTimes = starts.map((record) => record.dueAtMs);
    expect(new Set(dueTimes).size).toBe(dueTimes.length - 1);
    const running = starts.filter((record) => !finished.has(record.runId));
    expect(running.length).toBeLessThanOrEqual(1); // the one going on now
    // (The run going on now may not have reached the model yet: read the turns between two reads of the log.)
    const turns = jobTurns();
    const startsAfter = (await runLog(job.id)).filter((record) => record.action === "started").length;
    expect(turns).toBeGreaterThanOrEqual(starts.length - running.length);
    expect(turns).toBeLessThanOrEqual(startsAfter);
    expect(starts.filter((record) => record.ts > killedAt).every((record) => record.by === survivor.id)).toBe(true);
    // `cron runs` on the survivor shows the history of the whole fleet.
    const runs = await json(survivor.stateDir, ["cron", "runs", job.id, "--limit", "200"]);
    expect(runs.entries.filter((entry: { error?: string }) => entry.error?.startsWith("interrupted"))).toHaveLength(1);
    expect(runs.entries.length).toBe(finished.size);

    // The heartbeat (every 1 s) ran once across the fleet, not once per instance: one scheduler makes at most one per
    // 2.2 s (1 s, then its 1.2 s answer) and one more per takeover; three would make about three times as many.
    const elapsedMs = Date.now() - startedAt;
    expect(heartbeatTurns()).toBeGreaterThan(2);
    expect(heartbeatTurns()).toBeLessThanOrEqual(Math.ceil(elapsedMs / 2_000) + 1);
    console.log(
      `fleet cron: scheduler taken over ${takeoverMs} ms after kill -9 (lease ${LEASE_MS} ms); ${starts.length} runs, ${heartbeatTurns()} heartbeats in ${elapsedMs} ms`,
    );
  }, 120_000);
});
