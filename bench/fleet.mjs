// The fleet section of `pnpm bench` (`--only=fleet`): one instance and three side by side on a redis-server of the
// bench's own (so INFO commandstats counts nothing but ours). Each row is one entry of FLEET_MEASURES: a function of
// the shared context returning table rows; add a row (failover time, …) by adding a function there.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { cpus, loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { Redis } from "ioredis";
import { FleetEventBus } from "../packages/fleet/dist/index.js";
import { hasRedisServer, startRedisServer } from "../tooling/vitest/redis.mjs";

const TOKEN = "bench-token-0123456789";
const CLOCK_TICKS = 100; // USER_HZ of /proc/<pid>/stat on Linux
const percentile = (values, p) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? Number.NaN;
};
const ms = (value) => `${value < 1 ? value.toFixed(3) : value.toFixed(1)} ms`;
const us = (value) => `${value.toFixed(0)} µs`;
const sleep = (time) => new Promise((resolve) => setTimeout(resolve, time));

/** CPU seconds a process has used (user + system). */
function cpuOf(pid) {
  const fields = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1].split(" ");
  return (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS;
}

/** Commands Redis has executed so far (INFO commandstats), and its CPU seconds. */
async function redisCounters(redis) {
  const stats = await redis.info("commandstats");
  const calls = [...stats.matchAll(/calls=(\d+)/g)].reduce((sum, match) => sum + Number(match[1]), 0);
  const cpu = await redis.info("cpu");
  const seconds = (name) => Number(new RegExp(`${name}:([\\d.]+)`).exec(cpu)?.[1] ?? 0);
  // INFO itself is a command: the two of this call are not ours to count.
  return { calls: calls - 2, cpu: seconds("used_cpu_sys") + seconds("used_cpu_user") };
}

/** A chat delta and an agent event as the echo backend's runs send them (sizes of a streamed reply). */
function realisticEvents(index) {
  const runId = "3f1c2a9e-6b1d-4f0e-9a51-7c2d8e4b1a60";
  const text = `Here is part ${index} of a streamed answer, about as long as a model's chunk. `.repeat(3);
  return [
    [
      "chat",
      JSON.stringify({
        runId,
        sessionKey: "agent:main:main",
        seq: index,
        state: "delta",
        message: { role: "assistant", content: [{ type: "text", text }], timestamp: Date.now() },
      }),
    ],
    [
      "agent",
      JSON.stringify({
        runId,
        seq: index,
        stream: "assistant",
        ts: Date.now(),
        data: { text, delta: text.slice(0, 80) },
      }),
    ],
  ];
}

/**
 * Redis pub/sub against our Stream bus (XADD MAXLEN ~ + blocking XREAD): one publisher, two readers (three instances),
 * a streamed reply's rhythm (bursts of 10 events every 2 ms). Latency per event; CPU of clients and of Redis per event.
 */
async function transportRows(context) {
  const count = context.quick ? 4_000 : 20_000;
  const results = {};
  for (const mode of ["pub/sub", "streams"]) {
    const prefix = `bench-fleet-${mode === "streams" ? "s" : "p"}-${process.pid}:`;
    const publisher = new Redis(context.redisUrl);
    const readers = [new Redis(context.redisUrl), new Redis(context.redisUrl)];
    const latencies = [];
    let received = 0;
    const onArrival = (payloadJson, publishedAt) => {
      received++;
      if (payloadJson.charCodeAt(2) === 114) latencies.push(performance.now() - publishedAt); // {"runId": a chat/agent
    };
    let publish;
    const closers = [];
    if (mode === "pub/sub") {
      const channel = `${prefix}events`;
      for (const reader of readers) {
        await reader.subscribe(channel);
        reader.on("message", (_channel, message) => {
          const envelope = JSON.parse(message);
          onArrival(envelope.payloadJson, envelope.at);
        });
      }
      publish = (event, payloadJson, at) =>
        publisher.publish(channel, JSON.stringify({ origin: "a", event, payloadJson, at }));
    } else {
      const buses = readers.map(
        (reader, index) => new FleetEventBus(reader, { self: `r${index}`, keyPrefix: prefix, log: { warn() {} } }),
      );
      const own = new FleetEventBus(publisher, { self: "a", keyPrefix: prefix, log: { warn() {} } });
      const sentAt = new Map();
      for (const bus of buses)
        await bus.start((entry) => onArrival(entry.payloadJson, sentAt.get(entry.payloadJson) ?? performance.now()));
      publish = (event, payloadJson, at) => {
        sentAt.set(payloadJson, at);
        own.publish(event, payloadJson);
      };
      closers.push(
        () => {
          for (const bus of [...buses, own]) bus.close();
        },
        () => publisher.del(`${prefix}events`),
      );
    }
    const before = await redisCounters(publisher);
    const cpuBefore = process.cpuUsage();
    for (let index = 0; index < count; index += 10) {
      for (let burst = 0; burst < 10; burst += 2)
        for (const [event, payloadJson] of realisticEvents(index + burst))
          publish(event, payloadJson, performance.now());
      await sleep(2);
    }
    const deadline = Date.now() + 10_000;
    while (received < count * 2 && Date.now() < deadline) await sleep(5);
    const cpu = process.cpuUsage(cpuBefore);
    const after = await redisCounters(publisher);
    for (const close of closers) await close();
    publisher.disconnect();
    for (const reader of readers) reader.disconnect();
    results[mode] = {
      p50: percentile(latencies, 50),
      p99: percentile(latencies, 99),
      clientUs: (cpu.user + cpu.system) / (count * 2),
      redisUs: ((after.cpu - before.cpu) * 1e6) / (count * 2),
      lost: count * 2 - received,
    };
  }
  const describe = (result) =>
    `${ms(result.p50)} / ${ms(result.p99)}; clients ${us(result.clientUs)}, Redis ${us(result.redisUs)} per delivery; ${result.lost} lost`;
  return [
    [
      `fleet transport, ${count.toLocaleString("en")} realistic chat/agent events to 2 readers: Streams (ours) vs pub/sub`,
      "p99 ≤ 10 ms",
      describe(results.streams),
      `${describe(results["pub/sub"])} (pub/sub)`,
      context.verdict(results.streams.p99 <= 10),
    ],
  ];
}

/**
 * chat.send turns, with readers on every instance: one gateway (no fleet) and three (turns on b) side by side.
 * Gives the cross-instance latency (the same event at a's client minus at b's), CPU per delivered event, and Redis
 * commands per turn.
 */
async function turnRows(context) {
  const turns = context.quick ? 60 : 200;
  const single = await context.startFleet(["solo"], { fleet: false });
  const one = await runTurns(context, single, single.instances[0], [0, 0, 0], turns).finally(() => single.stop());
  const fleet = await context.startFleet(["a", "b", "c"]);
  let idle;
  let three;
  try {
    await sleep(1_000);
    idle = await context.idleRate(3_000);
    three = await runTurns(context, fleet, fleet.instances[1], [0, 1, 2], turns);
  } finally {
    await fleet.stop();
  }
  const commandsPerTurn = (three.redis.calls - idle * three.seconds) / turns;
  return [
    [
      "fleet: an event of a turn on b at a client on a, after the same event at a client on b: p50 / p99",
      "p99 ≤ 10 ms",
      `${ms(percentile(three.extra, 50))} / ${ms(percentile(three.extra, 99))} (${three.extra.length.toLocaleString("en")} events)`,
      `chat.send → final: 1 instance ${ms(percentile(one.turn, 50))} / ${ms(percentile(one.turn, 99))}; 3 instances (seen on a) ${ms(percentile(three.turn, 50))} / ${ms(percentile(three.turn, 99))}`,
      context.verdict(percentile(three.extra, 99) <= 10),
    ],
    [
      "fleet: CPU per delivered event (gateway processes; 3 readers), 1 instance vs 3 instances",
      "",
      `${us(one.cpuPerEvent)} vs ${us(three.cpuPerEvent)} (+ Redis ${us(three.redisCpuPerEvent)})`,
      `${one.delivered.toLocaleString("en")} vs ${three.delivered.toLocaleString("en")} events delivered`,
      "",
    ],
    [
      "fleet: Redis commands per chat turn (INFO commandstats, background subtracted)",
      "the fewer the better",
      `${commandsPerTurn.toFixed(1)} per turn (${(three.eventsPerTurn).toFixed(1)} events shared per turn)`,
      `background of 3 idle instances: ${idle.toFixed(1)} commands/s`,
      "",
    ],
  ];
}

/** `turns` chat.send on `sender`, a reader on each of `readerIndexes`; every event's arrival per reader. */
async function runTurns(context, fleet, sender, readerIndexes, turns) {
  const senderIndex = fleet.instances.indexOf(sender);
  // The reader on the sender's instance is the reference; the first reader elsewhere (if any) is the far one.
  const local = Math.max(0, readerIndexes.indexOf(senderIndex));
  const far = readerIndexes.findIndex((index) => index !== senderIndex);
  const watched = far >= 0 ? far : local;
  const arrivals = readerIndexes.map(() => new Map());
  const finals = new Map();
  const readers = [];
  for (const [position, index] of readerIndexes.entries()) {
    const reader = await new context.Client(`ws://127.0.0.1:${fleet.instances[index].port}`).connect(["operator.read"]);
    reader.onEvent = (data) => {
      const at = performance.now();
      const frame = JSON.parse(data.toString());
      if (frame.event !== "chat" && frame.event !== "agent") return;
      arrivals[position].set(`${frame.event}:${frame.payload.runId}:${frame.payload.seq}`, at);
      if (position === watched && frame.event === "chat" && frame.payload.state === "final") {
        const waiter = finals.get(frame.payload.runId);
        if (waiter) waiter(at);
        else finals.set(frame.payload.runId, at);
      }
    };
    readers.push(reader);
  }
  const finalOf = (runId) =>
    new Promise((resolve) => {
      const seen = finals.get(runId);
      if (typeof seen === "number") resolve(seen);
      else finals.set(runId, resolve);
    });
  const client = await new context.Client(`ws://127.0.0.1:${sender.port}`).connect(["operator.write"]);
  const turn = [];
  const cpuBefore = fleet.instances.map((instance) => cpuOf(instance.child.pid));
  const redisBefore = fleet.redis ? await redisCounters(fleet.redis) : undefined;
  const started = performance.now();
  for (let index = 0; index < turns; index++) {
    const sentAt = performance.now();
    const answer = await client.request("chat.send", {
      sessionKey: "agent:main:bench-fleet",
      message: `fleet benchmark message ${index} with a few words`,
      idempotencyKey: `bench-fleet-${index}-${sentAt}`,
    });
    if (!answer.ok) throw new Error(`chat.send: ${JSON.stringify(answer.error)}`);
    turn.push((await finalOf(answer.payload.runId)) - sentAt);
  }
  await sleep(200); // the last events reach every reader
  const seconds = (performance.now() - started) / 1000;
  const cpu = fleet.instances.reduce((sum, instance, index) => sum + cpuOf(instance.child.pid) - cpuBefore[index], 0);
  const redisAfter = fleet.redis ? await redisCounters(fleet.redis) : undefined;
  const delivered = arrivals.reduce((sum, map) => sum + map.size, 0);
  const extra = [];
  if (far >= 0)
    for (const [key, at] of arrivals[far]) {
      const reference = arrivals[local].get(key);
      if (reference !== undefined) extra.push(at - reference);
    }
  for (const reader of [...readers, client]) reader.close();
  const redis = redisAfter && { calls: redisAfter.calls - redisBefore.calls, cpu: redisAfter.cpu - redisBefore.cpu };
  return {
    turn,
    extra,
    seconds,
    delivered,
    cpuPerEvent: (cpu * 1e6) / delivered,
    redis,
    redisCpuPerEvent: redis ? (redis.cpu * 1e6) / delivered : 0,
    eventsPerTurn: arrivals[local].size / turns,
  };
}

/** Inbound Telegram messages answered by the fleet (the lease owner runs the account): Redis commands per message. */
async function inboundRows(context) {
  const { startFakeTelegram } = await import("../tooling/fakes/src/fake-telegram.ts");
  const fake = await startFakeTelegram();
  const botToken = fake.addBot("bench_fleet_bot");
  const channels = {
    telegram: {
      botToken,
      apiRoot: fake.apiRoot,
      pollTimeoutSeconds: 1,
      dmPolicy: "open",
      allowFrom: ["*"],
      debounceMs: 0,
    },
  };
  const fleet = await context.startFleet(["a", "b", "c"], { channels });
  try {
    await fake.until(() => fake.calls.some((call) => call.method === "getUpdates" && call.params.timeout > 0), 15_000);
    await sleep(1_000);
    const idle = await context.idleRate(3_000);
    const count = context.quick ? 30 : 100;
    const before = await redisCounters(fleet.redis);
    const started = performance.now();
    for (let index = 0; index < count; index++) {
      const peer = 20_000 + index;
      await fake.inject(botToken, {
        chat: { id: peer, type: "private" },
        from: { id: peer, is_bot: false, first_name: "Bench" },
        text: `fleet inbound ${index}`,
      });
      await fake.until(
        () => fake.sent(botToken).some((message) => String(message.text).includes(`fleet inbound ${index}`)),
        10_000,
      );
    }
    const seconds = (performance.now() - started) / 1000;
    const after = await redisCounters(fleet.redis);
    const perMessage = (after.calls - before.calls - idle * seconds) / count;
    return [
      [
        "fleet: Redis commands per inbound Telegram message answered (3 instances, INFO commandstats, background subtracted)",
        "the fewer the better",
        `${perMessage.toFixed(1)} per message`,
        `background with the account's lease: ${idle.toFixed(1)} commands/s`,
        "",
      ],
    ];
  } finally {
    await fleet.stop();
    await fake.close();
  }
}

/** The rows of the fleet section, in order. Each gets the context and returns rows; add yours here. */
export const FLEET_MEASURES = [transportRows, turnRows, inboundRows];

/**
 * Measure the fleet section. `helpers`: `Client` (the bench's protocol client), `spawnChild`, `stop`, `verdict`,
 * `quick`, `root`, `progress`. Returns table rows.
 */
export async function measureFleet(helpers) {
  if (!hasRedisServer()) return [["fleet", "", "not measured: no redis-server here", "", ""]];
  const server = await startRedisServer({ fsync: "everysec" });
  const redis = new Redis(server.url);
  const prefix = `bench-fleet-${process.pid}:`;
  const context = {
    ...helpers,
    redisUrl: server.url,
    /** Commands per second Redis executes while the fleet idles for `duration` ms. */
    async idleRate(duration) {
      const before = await redisCounters(redis);
      await sleep(duration);
      const after = await redisCounters(redis);
      return ((after.calls - before.calls) * 1000) / duration;
    },
    /** Gateways of `ids` (the built app, echo agent) in a fleet on this Redis, or one without (`fleet: false`). */
    async startFleet(ids, { fleet = true, channels } = {}) {
      const instances = [];
      const dirs = [];
      const stopAll = async () => {
        await Promise.all(instances.map((instance) => helpers.stop(instance.child)));
        for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
      };
      for (const id of ids) {
        const stateDir = mkdtempSync(join(tmpdir(), `gateway-bench-fleet-${id}-`));
        dirs.push(stateDir);
        writeFileSync(
          join(stateDir, "gateway.json5"),
          JSON.stringify({
            gateway: { auth: { mode: "token", token: TOKEN } },
            logging: { level: "warn" },
            ...(fleet
              ? { redis: { url: server.url }, fleet: { enabled: true, instanceId: id, keyPrefix: prefix } }
              : {}),
            ...(channels ? { channels } : {}),
          }),
        );
        const started = await helpers
          .spawnChild(
            [join(helpers.root, "apps", "gateway", "dist", "main.js"), "run", "--port", "0", "--state-dir", stateDir],
            /listening on ws:\/\/127\.0\.0\.1:(\d+)/,
          )
          .catch(async (error) => {
            await stopAll(); // the ones already started do not outlive a failed start
            throw error;
          });
        instances.push({ id, ...started });
      }
      return { instances, redis: fleet ? redis : undefined, stop: stopAll };
    },
  };
  const rows = [];
  const loadBefore = loadavg()[0];
  try {
    for (const measure of FLEET_MEASURES) {
      helpers.progress(`fleet: ${measure.name.replace(/Rows$/, "")}`);
      try {
        rows.push(...(await measure(context)));
      } catch (error) {
        rows.push([
          `fleet: ${measure.name}`,
          "",
          `not measured: ${String(error?.message ?? error).split("\n")[0]}`,
          "",
          "MISS",
        ]);
      }
    }
    // Tails (p99) on a shared machine say more about its load than about the fleet: the load goes with the figures.
    rows.push([
      "fleet: machine load during the section (1-minute load average, before / after)",
      "",
      `${loadBefore.toFixed(1)} / ${loadavg()[0].toFixed(1)} on ${cpus().length} cores`,
      "",
      "",
    ]);
  } finally {
    redis.disconnect();
    await server.stop();
  }
  return rows;
}
