#!/usr/bin/env node
// `pnpm bench`: measures the targets of docs/BENCH.md against the built gateway, beside a bare `ws` server measured in
// the same run, prints the table and writes bench/results/latest.md. A measurement, not a gate: always exits 0.
import { spawn } from "node:child_process";
import { randomUUID } from "node:crypto";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { cpus, tmpdir, totalmem } from "node:os";
import { dirname, join } from "node:path";
import { performance } from "node:perf_hooks";
import { fileURLToPath } from "node:url";
import { Redis } from "ioredis";
import { WebSocket } from "ws";
import { EventConsumer, eventsKey, pushEvent } from "../packages/redis-bridge/dist/index.js";
import { hasRedisServer, startRedisServer, useRedis } from "../tooling/vitest/redis.mjs";
import { measureControlUi } from "./control-ui.mjs";

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, "..");
const TOKEN = "bench-token-0123456789";
const quick = process.argv.includes("--quick");
const CONNECTIONS = quick ? 2_000 : 10_000;
const FANOUT_CLIENTS = 1_000;

const progress = (message) => process.stderr.write(`› ${message}\n`);
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
const percentile = (values, p) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
};
const median = (values) => percentile(values, 50);
const rssOf = (pid) => Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, "utf8"))[1]) * 1024;
const mb = (bytes) => `${(bytes / 1024 / 1024).toFixed(1)} MB`;
const ms = (value) => `${value < 1 ? value.toFixed(3) : value.toFixed(1)} ms`;

function spawnChild(args, readyPattern, nodeFlags = []) {
  const child = spawn(process.execPath, [...nodeFlags, ...args], { cwd: root, stdio: ["ignore", "pipe", "inherit"] });
  return new Promise((resolve, reject) => {
    let output = "";
    child.stdout.on("data", (chunk) => {
      output += chunk;
      const match = readyPattern.exec(output);
      if (match) resolve({ child, port: Number(match[1]) });
    });
    child.once("exit", (code) => reject(new Error(`${args.join(" ")} exited with ${code} before it was ready`)));
  });
}

function stop(child) {
  return new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) return resolve();
    child.once("exit", resolve);
    child.kill("SIGTERM");
    setTimeout(() => child.kill("SIGKILL"), 5_000).unref();
  });
}

/** A protocol client: handshake, then request() with latency. */
class Client {
  constructor(url, options = {}) {
    this.socket = new WebSocket(url, { perMessageDeflate: false, ...options });
    this.pending = new Map();
    this.nextId = 0;
    this.events = 0;
    this.onEvent = undefined;
    this.socket.on("message", (data) => {
      // `{"type":"e…`: an event. Counted without decoding, so the client costs as little as possible.
      if (data[9] === 0x65) {
        this.events++;
        this.onEvent?.(data);
        return;
      }
      const frame = JSON.parse(data.toString());
      const resolve = this.pending.get(frame.id);
      if (resolve) {
        this.pending.delete(frame.id);
        resolve(frame);
      }
    });
    this.socket.on("error", () => {});
    // A socket the gateway closes (a limit, a refused handshake) answers what waits, so the bench fails loudly.
    this.socket.on("close", (code) => {
      for (const resolve of this.pending.values()) resolve({ ok: false, error: { message: `closed (${code})` } });
      this.pending.clear();
    });
  }
  opened() {
    return new Promise((resolve, reject) => {
      this.socket.once("open", resolve);
      this.socket.once("error", reject);
      this.socket.once("close", (code) => reject(new Error(`closed before it opened (${code})`)));
    });
  }
  request(method, params = {}) {
    const id = String(++this.nextId);
    return new Promise((resolve) => {
      this.pending.set(id, resolve);
      this.socket.send(JSON.stringify({ type: "req", id, method, params }));
    });
  }
  /** `scopes`: what to ask for (a gateway grants none unasked). @default operator read, write and admin */
  async connect(scopes = ["operator.read", "operator.write", "operator.admin"]) {
    await this.opened();
    const hello = await this.request("connect", {
      minProtocol: 4,
      maxProtocol: 4,
      client: { id: "test", version: "1", platform: "linux", mode: "test" },
      auth: { token: TOKEN },
      scopes,
    });
    if (!hello.ok) throw new Error(`connect refused: ${JSON.stringify(hello.error)}`);
    return this;
  }
  close() {
    this.socket.terminate();
  }
}

/** Echo client for the baseline: same frame, same round trip, no handshake. */
class EchoClient extends Client {
  async connect() {
    await this.opened();
    return this;
  }
}

async function sequential(client, count) {
  const latencies = [];
  for (let index = 0; index < count; index++) {
    const started = performance.now();
    await client.request("health");
    latencies.push(performance.now() - started);
  }
  return latencies;
}

/** chat.send → the first `chat` delta of its run (echo backend), sequentially; each run finishes before the next. */
async function chatToFirstDelta(client, count) {
  const latencies = [];
  for (let index = 0; index < count; index++) {
    const started = performance.now();
    let firstDelta = 0;
    const finished = new Promise((resolve) => {
      client.onEvent = (data) => {
        const text = data.toString();
        if (!text.includes('"event":"chat"')) return;
        if (!firstDelta && text.includes('"state":"delta"')) firstDelta = performance.now();
        if (text.includes('"state":"final"')) resolve();
      };
    });
    const sent = await client.request("chat.send", {
      sessionKey: "agent:main:bench",
      message: `benchmark message ${index} with a few words`,
      idempotencyKey: `bench-${index}-${started}`,
    });
    if (!sent.ok) throw new Error(`chat.send refused: ${JSON.stringify(sent.error)}`);
    await finished;
    latencies.push(firstDelta - started);
  }
  client.onEvent = undefined;
  return latencies;
}

async function parallel(clients, durationMs) {
  const latencies = [];
  const deadline = performance.now() + durationMs;
  const started = performance.now();
  await Promise.all(
    clients.map(async (client) => {
      while (performance.now() < deadline) {
        const begin = performance.now();
        await client.request("health");
        latencies.push(performance.now() - begin);
      }
    }),
  );
  return { rate: latencies.length / ((performance.now() - started) / 1000), p99: percentile(latencies, 99) };
}

async function openMany(ClientClass, url, count) {
  const clients = [];
  for (let offset = 0; offset < count; offset += 250) {
    const batch = Array.from({ length: Math.min(250, count - offset) }, () => new ClientClass(url).connect());
    clients.push(...(await Promise.all(batch)));
  }
  return clients;
}

async function fanout(clients, trigger, count) {
  const expected = count * clients.length;
  let received = 0;
  const done = new Promise((resolve) => {
    for (const client of clients) {
      client.events = 0;
      client.onEvent = () => {
        if (++received === expected) resolve();
      };
    }
  });
  const started = performance.now();
  trigger();
  await done;
  return expected / ((performance.now() - started) / 1000);
}

/** Median time from process launch to an answered `health` over five launches, and the idle RSS after the last. */
async function startupRuns(args, readyPattern, ClientClass) {
  const times = [];
  let idleRss = 0;
  for (let run = 0; run < 5; run++) {
    const started = performance.now();
    const { child, port } = await spawnChild(args, readyPattern);
    const client = await new ClientClass(`ws://127.0.0.1:${port}`).connect();
    await client.request("health");
    times.push(performance.now() - started);
    client.close();
    if (run === 4) {
      await sleep(1_500);
      idleRss = rssOf(child.pid);
    }
    await stop(child);
  }
  return { time: median(times), idleRss };
}

async function measureStartup() {
  const stateDir = mkdtempSync(join(tmpdir(), "gateway-bench-"));
  const gatewayArgs = [
    "apps/gateway/dist/main.js",
    "--port",
    "0",
    "--token",
    TOKEN,
    "--state-dir",
    stateDir,
    "--json-logs",
  ];
  const gateway = await startupRuns(gatewayArgs, /listening on ws:\/\/[^:]+:(\d+)/, Client);
  rmSync(stateDir, { recursive: true, force: true });
  const baseline = await startupRuns(["bench/baseline-child.mjs"], /READY (\d+)/, EchoClient);
  return {
    startup: gateway.time,
    baselineStartup: baseline.time,
    idleRss: gateway.idleRss,
    baselineRss: baseline.idleRss,
  };
}

/** Median wall time of `gateway health` (a whole CLI process) against a running gateway, and of a bare `node -e 0`. */
async function measureCli() {
  const stateDir = mkdtempSync(join(tmpdir(), "gateway-bench-cli-"));
  const { child, port } = await spawnChild(
    ["apps/gateway/dist/main.js", "--port", "0", "--token", TOKEN, "--state-dir", stateDir, "--json-logs"],
    /listening on ws:\/\/[^:]+:(\d+)/,
  );
  const timeOne = async (args) => {
    const started = performance.now();
    const run = spawn(process.execPath, args, { cwd: root, stdio: "ignore" });
    const code = await new Promise((resolve) => run.once("exit", resolve));
    if (code !== 0) throw new Error(`${args.join(" ")} exited ${code}`);
    return performance.now() - started;
  };
  const health = ["apps/gateway/dist/main.js", "health", "--url", `ws://127.0.0.1:${port}`, "--token", TOKEN];
  const times = [];
  const bare = [];
  for (let run = 0; run < 5; run++) {
    times.push(await timeOne(health));
    bare.push(await timeOne(["-e", "0"]));
  }
  await stop(child);
  rmSync(stateDir, { recursive: true, force: true });
  return { time: median(times), baseline: median(bare) };
}

async function collectGarbage(client, isGateway) {
  if (isGateway) await client.request("bench.gc");
  else {
    const id = "gc";
    await new Promise((resolve) => {
      client.pending.set(id, resolve);
      client.socket.send("gc");
    });
  }
  await sleep(200);
}

async function measureServer(script, ClientClass, isGateway) {
  const { child, port } = await spawnChild([script], /READY (\d+)/, ["--expose-gc"]);
  const url = `ws://127.0.0.1:${port}`;
  const label = isGateway ? "gateway" : "baseline";
  const result = {};
  try {
    progress(`${label}: holding ${CONNECTIONS.toLocaleString("en")} connections`);
    const control = await new ClientClass(url).connect();
    await sequential(control, 500);
    await collectGarbage(control, isGateway);
    const rssBefore = rssOf(child.pid);
    const held = await openMany(ClientClass, url, CONNECTIONS);
    await sleep(500);
    await collectGarbage(control, isGateway);
    result.perConnection = (rssOf(child.pid) - rssBefore) / CONNECTIONS;
    const heldLatencies = await sequential(held[held.length - 1], 500);
    result.heldP50 = percentile(heldLatencies, 50);
    result.held = held.length;
    for (const client of held) client.close();
    await sleep(500);

    progress(`${label}: health round trips, 1 client`);
    await sequential(control, 2_000);
    const latencies = await sequential(control, 5_000);
    result.p50 = percentile(latencies, 50);
    result.p99 = percentile(latencies, 99);

    if (isGateway) {
      progress("gateway: chat.send → first delta (echo backend)");
      await chatToFirstDelta(control, 100);
      const chat = await chatToFirstDelta(control, 1_000);
      result.chatP50 = percentile(chat, 50);
      result.chatP99 = percentile(chat, 99);
    }

    progress(`${label}: 100 clients in parallel`);
    const hundred = await openMany(ClientClass, url, 100);
    await parallel(hundred, 500);
    result.parallel = await parallel(hundred, 3_000);
    for (const client of hundred) client.close();

    progress(`${label}: broadcast to ${FANOUT_CLIENTS.toLocaleString("en")} clients`);
    const many = await openMany(ClientClass, url, FANOUT_CLIENTS);
    const trigger = isGateway
      ? () => control.request("bench.broadcast", { count: 300, bytes: 100 })
      : () => control.socket.send("broadcast 300 100");
    await fanout(many, trigger, 300);
    const rates = [];
    for (let run = 0; run < 3; run++) rates.push(await fanout(many, trigger, 300));
    result.fanout = median(rates);
    for (const client of many) client.close();
    control.close();
  } finally {
    await stop(child);
  }
  return result;
}

/**
 * A client as the reference's apps and tools connect: its own `instanceId`, a display name and host, a mode from a
 * realistic mix, and a source address of its own (127.0.0.N) so no per-address cap is what holds the line.
 * Counts the bytes it receives, and those of `presence` events apart.
 */
class RealisticClient extends Client {
  constructor(url, index) {
    const lastOctet = 2 + (index % 50);
    super(url, { localAddress: `127.0.0.${lastOctet}` });
    this.index = index;
    this.bytes = 0;
    this.presenceBytes = 0;
    this.socket.on("message", (data) => {
      this.bytes += data.length;
      if (data[9] === 0x65 && data.includes('"event":"presence"')) this.presenceBytes += data.length;
    });
  }
  async connect() {
    await this.opened();
    // One in ten is a UI (Control UI, WebChat): they show presence. The rest are backends and CLI commands.
    const kinds = [
      { id: "openclaw-control-ui", mode: "ui" },
      { id: "webchat-ui", mode: "webchat" },
      ...Array.from({ length: 12 }, () => ({ id: "gateway-client", mode: "backend" })),
      ...Array.from({ length: 6 }, () => ({ id: "cli", mode: "cli" })),
    ];
    const kind = kinds[this.index % kinds.length];
    const hello = await this.request("connect", {
      minProtocol: 4,
      maxProtocol: 4,
      client: {
        id: kind.id,
        version: "2026.9.1",
        platform: "linux",
        mode: kind.mode,
        instanceId: randomUUID(),
        displayName: `bench client ${this.index}`,
      },
      role: "operator",
      scopes: ["operator.read", "operator.write"],
      auth: { token: TOKEN },
      userAgent: "bench/1",
    });
    // The bare baseline echoes the frame back (no `ok`): the same bytes in, the same round trip.
    if (!this.echo && !hello.ok) throw new Error(`connect refused: ${JSON.stringify(hello.error)}`);
    return this;
  }
}

/** The same client against the bare `ws` echo server (its connect frame is echoed). */
class RealisticEchoClient extends RealisticClient {
  echo = true;
}

/** 10,000 realistic clients connect (a storm, 250 at a time), are held, then leave: time, RSS, presence traffic. */
async function measurePresence(isGateway) {
  const script = isGateway ? "bench/gateway-child.mjs" : "bench/baseline-child.mjs";
  const { child, port } = await spawnChild([script], /READY (\d+)/, ["--expose-gc"]);
  const url = `ws://127.0.0.1:${port}`;
  const ClientClass = isGateway ? RealisticClient : RealisticEchoClient;
  const heap = async (control) => (isGateway ? (await control.request("bench.gc")).payload.heapUsed : Number.NaN);
  try {
    const control = await new (isGateway ? Client : EchoClient)(url).connect();
    await sequential(control, 500);
    await collectGarbage(control, isGateway);
    const rssBefore = rssOf(child.pid);
    const heapBefore = await heap(control);
    progress(
      `gateway: ${CONNECTIONS.toLocaleString("en")} realistic clients connect (instanceId, mixed modes, 50 addresses)`,
    );
    const started = performance.now();
    const clients = [];
    for (let offset = 0; offset < CONNECTIONS; offset += 250) {
      const batch = Array.from({ length: Math.min(250, CONNECTIONS - offset) }, (_, index) =>
        new ClientClass(url, offset + index).connect(),
      );
      clients.push(...(await Promise.all(batch)));
    }
    const connectSeconds = (performance.now() - started) / 1000;
    await sleep(1_500); // the coalesced presence broadcasts of the storm go out
    await collectGarbage(control, isGateway);
    const perClient = (rssOf(child.pid) - rssBefore) / CONNECTIONS;
    const heapHeld = await heap(control);
    const heldLatencies = await sequential(control, 2_000);
    const presenceBytes = clients.reduce((sum, client) => sum + client.presenceBytes, 0);
    const bytes = clients.reduce((sum, client) => sum + client.bytes, 0);
    for (const client of clients) client.close();
    await sleep(1_000);
    await collectGarbage(control, isGateway);
    await sleep(500);
    const rssAfter = rssOf(child.pid);
    const heapAfter = await heap(control);
    control.close();
    return {
      held: clients.length,
      connectSeconds,
      perClient,
      presenceBytes,
      bytes,
      heldP99: percentile(heldLatencies, 99),
      rssBefore,
      rssAfter,
      heapBefore,
      heapAfter,
      heapPerClient: (heapHeld - heapBefore) / CONNECTIONS,
    };
  } finally {
    await stop(child);
  }
}

/** The Redis bridge: pushEvent() → delivered to the session (sequential), then a backlog drained (events/s, loss). */
async function measureBridge() {
  const server = hasRedisServer() ? await startRedisServer({ fsync: "everysec" }) : undefined;
  const shared = server ? undefined : await useRedis();
  if (!server && !shared) return undefined;
  const url = server?.url ?? shared.url;
  const session = `bench-${process.pid}`;
  const redis = new Redis(url);
  const arrived = new Map();
  const consumer = new EventConsumer({
    url,
    sessions: ["gateway", session],
    consumerId: `bench-${process.pid}`,
    batchSize: 500,
    register: false,
    async deliver(events) {
      const now = performance.now();
      for (const event of events) arrived.set(event.id, now);
    },
  });
  try {
    await consumer.start();
    progress("redis bridge: pushEvent() → in the session, 2,000 sequential");
    const latencies = [];
    for (let index = 0; index < 2_200; index++) {
      const started = performance.now();
      const { event } = await pushEvent(redis, "bench", "bench", { index });
      while (!arrived.has(event.id)) await new Promise((resolve) => setImmediate(resolve));
      if (index >= 200) latencies.push(arrived.get(event.id) - started);
    }
    await consumer.stop();
    const total = quick ? 20_000 : 100_000;
    progress(`redis bridge: draining a backlog of ${total.toLocaleString("en")} events`);
    arrived.clear();
    for (let start = 0; start < total; start += 5_000) {
      const pipeline = redis.pipeline();
      for (let index = start; index < start + 5_000; index++)
        pipeline.lpush(
          eventsKey(session),
          JSON.stringify({ id: `b-${index}`, type: "bench", source: "bench", payload: {}, ts: Date.now() }),
        );
      await pipeline.exec();
    }
    const drainer = new EventConsumer({
      url,
      sessions: [session],
      consumerId: `bench-drain-${process.pid}`,
      batchSize: 1_000,
      register: false,
      dedupeTtlSeconds: 600,
      async deliver(events) {
        const now = performance.now();
        for (const event of events) arrived.set(event.id, now);
      },
    });
    const started = performance.now();
    await drainer.start();
    const elapsed = performance.now() - started;
    await drainer.stop();
    return {
      p50: percentile(latencies, 50),
      p99: percentile(latencies, 99),
      rate: (arrived.size / elapsed) * 1000,
      lost: total - arrived.size,
    };
  } finally {
    redis.disconnect();
    await server?.stop();
    await shared?.stop();
  }
}

/**
 * An inbound Telegram message → its agent run started: the built gateway polls the fake Bot API with the real grammY
 * (echo backend, an open DM policy, no debounce); the time from injecting an update to the run's first `agent` event.
 */
async function measureInbound() {
  const { startFakeTelegram } = await import("../tooling/fakes/src/fake-telegram.ts");
  const fake = await startFakeTelegram();
  const botToken = fake.addBot("bench_bot");
  const stateDir = mkdtempSync(join(tmpdir(), "gateway-bench-inbound-"));
  writeFileSync(
    join(stateDir, "gateway.json5"),
    JSON.stringify({
      gateway: { auth: { mode: "token", token: TOKEN } },
      session: { dmScope: "per-peer" },
      channels: {
        telegram: { botToken, apiRoot: fake.apiRoot, dmPolicy: "open", allowFrom: ["*"], debounceMs: 0 },
      },
    }),
  );
  const { child, port } = await spawnChild(
    [join(root, "apps", "gateway", "dist", "main.js"), "run", "--port", "0", "--state-dir", stateDir],
    /listening on ws:\/\/127\.0\.0\.1:(\d+)/,
  );
  try {
    await fake.until(() => fake.calls.some((call) => call.method === "getUpdates" && call.params.timeout > 0), 10_000);
    const client = await new Client(`ws://127.0.0.1:${port}`).connect();
    const latencies = [];
    const count = quick ? 100 : 400;
    for (let index = 0; index < count + 20; index++) {
      const started = performance.now();
      const runStarted = new Promise((resolve) => {
        client.onEvent = (data) => {
          if (data.toString().includes('"event":"agent"')) resolve(performance.now());
        };
      });
      const peer = 10_000 + index;
      await fake.inject(botToken, {
        chat: { id: peer, type: "private" },
        from: { id: peer, is_bot: false, first_name: "Bench" },
        text: `benchmark message ${index}`,
      });
      const at = await runStarted;
      client.onEvent = undefined;
      if (index >= 20) latencies.push(at - started);
      await sleep(2); // let the run finish and its reply go out before the next message
    }
    client.close();
    return { p50: percentile(latencies, 50), p99: percentile(latencies, 99) };
  } finally {
    await stop(child);
    await fake.close();
    rmSync(stateDir, { recursive: true, force: true });
  }
}

progress("building is done by `pnpm bench`; measuring start-up (5 runs each)");
// `--only=presence,channels` measures just those sections (names: startup, server, presence, bridge, inbound, channels,
// fleet, control-ui, first-start); the default is all of them. first-start clones and installs afresh (about a minute): skipped by --quick.
// `--only=fleet:failover` runs one row of the fleet section.
const onlyArg = process.argv.find((arg) => arg.startsWith("--only="));
const only = onlyArg
  ? new Set(
      onlyArg
        .slice("--only=".length)
        .split(",")
        .map((name) => name.replace(/:.*/, "")),
    )
  : undefined;
const wanted = (name) => (only ? only.has(name) : name !== "first-start" || !quick);
const verdict = (ok) => (ok ? "PASS" : "MISS");
const rows = [];
const section = async (name, measure) => {
  if (!wanted(name)) return;
  try {
    rows.push(...(await measure()));
  } catch (error) {
    progress(`${name}: not measured: ${error instanceof Error ? error.message : error}`);
    rows.push([
      name,
      "",
      `not measured: ${String(error instanceof Error ? error.message : error).split("\n")[0]}`,
      "",
      "MISS",
    ]);
  }
};

let baseline;
await section("startup", async () => {
  const startup = await measureStartup();
  progress("CLI: `gateway health` from launch to exit (5 runs)");
  const cli = await measureCli();
  return [
    [
      "start-up: launch → hello-ok + health (no channels)",
      "≤ 150 ms and ≤ 2.5× bare ws",
      ms(startup.startup),
      ms(startup.baselineStartup),
      verdict(startup.startup <= 150 && startup.startup <= 2.5 * startup.baselineStartup),
    ],
    [
      "CLI: `gateway health`, launch → exit",
      "< 300 ms",
      ms(cli.time),
      `${ms(cli.baseline)} (node -e 0)`,
      verdict(cli.time < 300),
    ],
    [
      "idle RSS, no channels",
      "≤ 70 MB (≤ 1.25× bare)",
      mb(startup.idleRss),
      mb(startup.baselineRss),
      verdict(startup.idleRss <= 70 * 1024 * 1024 && startup.idleRss <= 1.25 * startup.baselineRss),
    ],
  ];
});

await section("server", async () => {
  progress("gateway: health round trips");
  const gateway = await measureServer("bench/gateway-child.mjs", Client, true);
  progress("baseline: echo round trips");
  baseline = await measureServer("bench/baseline-child.mjs", EchoClient, false);
  return [
    [
      "health, 1 client: p50",
      "≤ 1.2× bare echo",
      ms(gateway.p50),
      ms(baseline.p50),
      verdict(gateway.p50 <= 1.2 * baseline.p50),
    ],
    ["health, 1 client: p99", "≤ 1 ms", ms(gateway.p99), ms(baseline.p99), verdict(gateway.p99 <= 1)],
    [
      "chat.send → first delta (echo backend): p50 / p99",
      "p99 ≤ 20 ms",
      `${ms(gateway.chatP50)} / ${ms(gateway.chatP99)}`,
      `${ms(baseline.p50)} / ${ms(baseline.p99)} (echo round trip)`,
      verdict(gateway.chatP99 <= 20),
    ],
    [
      "health, 100 clients: throughput",
      "≥ 0.8× bare echo",
      `${Math.round(gateway.parallel.rate).toLocaleString("en")} req/s`,
      `${Math.round(baseline.parallel.rate).toLocaleString("en")} req/s`,
      verdict(gateway.parallel.rate >= 0.8 * baseline.parallel.rate),
    ],
    [
      "health, 100 clients: p99",
      "≤ 10 ms",
      ms(gateway.parallel.p99),
      ms(baseline.parallel.p99),
      verdict(gateway.parallel.p99 <= 10),
    ],
    [
      `bare connections held (${CONNECTIONS.toLocaleString("en")}), health p50 while held`,
      "all held, answered",
      `${gateway.held.toLocaleString("en")}, ${ms(gateway.heldP50)}`,
      `${baseline.held.toLocaleString("en")}, ${ms(baseline.heldP50)}`,
      verdict(gateway.held >= CONNECTIONS),
    ],
    [
      "RSS per bare idle connection",
      "≤ 8 KB",
      `${(gateway.perConnection / 1024).toFixed(1)} KB`,
      `${(baseline.perConnection / 1024).toFixed(1)} KB`,
      verdict(gateway.perConnection <= 8 * 1024),
    ],
    [
      `broadcast fan-out, ${FANOUT_CLIENTS.toLocaleString("en")} clients`,
      "≥ 1,000,000 deliveries/s",
      `${Math.round(gateway.fanout).toLocaleString("en")}/s`,
      `${Math.round(baseline.fanout).toLocaleString("en")}/s`,
      verdict(gateway.fanout >= 1_000_000),
    ],
  ];
});

await section("presence", async () => {
  const presence = await measurePresence(true);
  progress("baseline: the same realistic clients against the bare ws echo server");
  const bare = await measurePresence(false);
  return [
    [
      `${presence.held.toLocaleString("en")} realistic clients (instanceId, mixed modes): connect storm`,
      "all held, ≤ 10 s",
      `${presence.held.toLocaleString("en")} in ${presence.connectSeconds.toFixed(1)} s`,
      `${bare.held.toLocaleString("en")} in ${bare.connectSeconds.toFixed(1)} s`,
      verdict(presence.held === CONNECTIONS && presence.connectSeconds <= 10),
    ],
    [
      "realistic clients: RSS each; presence traffic in all (all bytes received)",
      "≤ 8 KB; ≤ 50 MB",
      `${(presence.perClient / 1024).toFixed(1)} KB (JS heap ${(presence.heapPerClient / 1024).toFixed(1)} KB); ${mb(presence.presenceBytes)} (${mb(presence.bytes)})`,
      `${(bare.perClient / 1024).toFixed(1)} KB; — (${mb(bare.bytes)})`,
      verdict(presence.perClient <= 8 * 1024 && presence.presenceBytes <= 50 * 1024 * 1024),
    ],
    [
      "realistic clients held: health p99; RSS (JS heap) before the storm → after they left",
      "≤ 10 ms; back near the baseline",
      `${ms(presence.heldP99)}; ${mb(presence.rssBefore)} (${mb(presence.heapBefore)}) → ${mb(presence.rssAfter)} (${mb(presence.heapAfter)})`,
      `${ms(bare.heldP99)}; ${mb(bare.rssBefore)} → ${mb(bare.rssAfter)}`,
      // "Near the baseline": the JS heap back within 25 %, and the RSS kept no more than the bare server's keeps.
      verdict(
        presence.heldP99 <= 10 &&
          presence.heapAfter <= presence.heapBefore * 1.25 &&
          presence.rssAfter - presence.rssBefore <=
            1.25 * Math.max(0, bare.rssAfter - bare.rssBefore) + 8 * 1024 * 1024,
      ),
    ],
  ];
});

const echoRoundTrip = () => (baseline ? `${ms(baseline.p50)} / ${ms(baseline.p99)} (echo round trip)` : "");
await section("bridge", async () => {
  progress("redis bridge");
  const bridge = await measureBridge();
  if (!bridge) return [["Redis bridge", "p99 ≤ 2 ms; ≥ 100,000 events/s", "not measured: no Redis here", "", ""]];
  return [
    [
      "Redis bridge: pushEvent() → in the session, p50 / p99; backlog drained",
      "p99 ≤ 2 ms; ≥ 100,000 events/s, zero loss",
      `${ms(bridge.p50)} / ${ms(bridge.p99)}; ${Math.round(bridge.rate).toLocaleString("en")} events/s, ${bridge.lost} lost`,
      echoRoundTrip(),
      verdict(bridge.p99 <= 2 && bridge.rate >= 100_000 && bridge.lost === 0),
    ],
  ];
});

await section("inbound", async () => {
  progress("inbound Telegram message → agent run started (fake Bot API, real grammY)");
  const inbound = await measureInbound();
  return [
    [
      "inbound Telegram message → agent run started (fake Bot API, real grammY, echo): p50 / p99",
      "p99 ≤ 20 ms",
      `${ms(inbound.p50)} / ${ms(inbound.p99)}`,
      echoRoundTrip(),
      verdict(inbound.p99 <= 20),
    ],
  ];
});

await section("channels", async () => {
  const out = [];
  progress("Discord: inbound DM → agent run started (fake Discord, real discord.js)");
  const { measureDiscord } = await import("./channels/discord.mjs");
  const discord = (await measureDiscord({ root, quick, only: "inbound" })).inbound;
  out.push([
    "inbound Discord DM → agent run started: p50 / p99",
    "p99 ≤ 20 ms",
    `${ms(discord.p50)} / ${ms(discord.p99)}`,
    `${ms(discord.libraryP50)} / ${ms(discord.libraryP99)} (discord.js alone)`,
    verdict(discord.p99 <= 20),
  ]);
  progress("Slack: inbound message → agent run started, Socket Mode and HTTP events (fake Slack, real Bolt)");
  const { measureSlack } = await import("./channels/slack.mjs");
  const slack = await measureSlack({ root, quick });
  out.push(
    [
      "inbound Slack message → agent run started, Socket Mode / HTTP: p99",
      "p99 ≤ 20 ms",
      `${ms(slack.socket.p99)} / ${ms(slack.http.p99)}`,
      "",
      verdict(slack.socket.p99 <= 20 && slack.http.p99 <= 20),
    ],
    [
      "Slack 100-disconnect storm: sockets open at most / at rest; lost, answered twice",
      "≤ 2 / 1; 0, 0",
      `${slack.storm.maxOpenSockets} / ${slack.storm.openAtRest}; ${slack.storm.lost}, ${slack.storm.duplicated}`,
      "",
      verdict(
        slack.storm.maxOpenSockets <= 2 &&
          slack.storm.openAtRest <= 1 &&
          slack.storm.lost === 0 &&
          slack.storm.duplicated === 0,
      ),
    ],
  );
  progress(
    "WhatsApp: inbound message → agent run started, RSS, event-loop delay at 50 messages/s (crabline, real Baileys)",
  );
  const { measureWhatsApp } = await import("./channels/whatsapp.mjs");
  const whatsapp = await measureWhatsApp({ root, quick });
  out.push(
    [
      "inbound WhatsApp message → agent run started: p50 / p99",
      "p99 ≤ 20 ms",
      `${ms(whatsapp.p50)} / ${ms(whatsapp.p99)}`,
      `${ms(whatsapp.baselineP50)} / ${ms(whatsapp.baselineP99)} (bare Baileys)`,
      verdict(whatsapp.p99 <= 20),
    ],
    [
      `event-loop delay p99 while ${whatsapp.rate.toFixed(0)} WhatsApp messages/s arrive`,
      "≤ 10 ms",
      ms(whatsapp.eventLoopP99),
      "",
      verdict(whatsapp.eventLoopP99 <= 10),
    ],
    [
      "RSS with a linked WhatsApp account",
      "≤ 130 MB with all four channels",
      mb(whatsapp.rss),
      `${mb(whatsapp.bareRss)} (no channel)`,
      verdict(whatsapp.rss <= 130 * 1024 * 1024),
    ],
  );
  return out;
});

await section("fleet", async () => {
  progress("fleet: one instance and three on a redis-server of the bench's own");
  const { measureFleet } = await import("./fleet.mjs");
  return measureFleet({ Client, spawnChild, stop, verdict, quick, root, progress });
});

await section("control-ui", async () => {
  progress("Control UI: cold first loads in chromium");
  const controlUi = await measureControlUi();
  if (!controlUi)
    return [
      ["Control UI first load", "shell ≤ 150 KB gzipped; first paint ≤ 1 s", "not measured: no chromium here", "", ""],
    ];
  return [
    [
      "Control UI first load (cold, loopback): shell gzipped; transferred; first paint; interactive",
      "shell ≤ 150 KB gzipped; first paint ≤ 1 s",
      `${(controlUi.shellGzipBytes / 1024).toFixed(1)} KB; ${(controlUi.transferredBytes / 1024).toFixed(1)} KB in ${controlUi.requests} requests; ${ms(controlUi.firstPaintMs)}; ${ms(controlUi.interactiveMs)}`,
      "",
      verdict(controlUi.shellGzipBytes <= 150 * 1024 && controlUi.firstPaintMs <= 1000),
    ],
  ];
});

await section("first-start", async () => {
  progress("first npm start of a fresh clone (install + build + start; about a minute)");
  const { measureFirstStart } = await import("./first-start.mjs");
  const first = await measureFirstStart();
  return [
    [
      "first `npm start` of a fresh clone → listening; Ctrl-C → stopped",
      "≤ 45 s; no foreign output",
      `${(first.listeningMs / 1000).toFixed(1)} s; stop ${first.stopMs} ms; ${first.foreign.length} foreign line(s)`,
      "",
      verdict(first.listeningMs <= 45_000 && first.foreign.length === 0 && first.said),
    ],
  ];
});

const header = ["figure", "target", "gateway", "baseline (bare ws, same run)", ""];
const table = [header, header.map(() => "---"), ...rows].map((row) => `| ${row.join(" | ")} |`).join("\n");
const machine = `${cpus().length} × ${cpus()[0]?.model ?? "cpu"}, ${(totalmem() / 1024 ** 3).toFixed(0)} GiB, Node ${process.versions.node}`;
const report = `# Benchmark results\n\n${new Date().toISOString()} — ${machine}${quick ? " — quick run" : ""}\n\n${table}\n\nClients run in the benchmark process on the same machine, so every figure includes the client's own cost; the baseline pays the same. The chat line runs the real agent path (lanes, transcript appends to disk, chat/agent events) with the echo backend; its target is the one BENCH.md sets for an inbound message reaching a run. The Redis bridge line runs the real consumer against a throwaway redis-server (append-only with appendfsync everysec, Redis's default fsync policy; the restart tests use fsync always): each event is moved atomically, deduplicated and acknowledged. The inbound line runs the built gateway with its Telegram channel (the real grammY, long polling) against the fake Bot API in the benchmark process: from the update's injection (the held getUpdates answers) to the first agent event of its run, through dedupe, access control and the session lane.\n`;
// Only a full run replaces the recorded results; a quick or partial one goes beside them (not kept in git).
const resultFile = quick || only ? "partial.md" : "latest.md";
mkdirSync(join(here, "results"), { recursive: true });
writeFileSync(join(here, "results", resultFile), report);
process.stdout.write(`\n${report}\nwritten to bench/results/${resultFile}\n`);
process.exit(0);
