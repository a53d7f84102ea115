#!/usr/bin/env node
// Discord figures for `pnpm bench` (docs/BENCH.md), against the fake Discord (tooling/fakes) with the real discord.js:
//   - inbound DM → agent run started, p50/p99, through the built gateway (dist/main.js), beside discord.js alone
//     (inject → messageCreate in this process) as the same-run floor;
//   - reconnects and IDENTIFYs per minute under a flapping gateway, for the plugin and for discord.js with its own
//     reconnect logic, beside what the plugin's backoff allows and what Discord's session start limit allows.
// `measureDiscord({ root, quick, spawnGateway })` returns the figures; `node bench/channels/discord.mjs [--quick]` runs
// it alone (build first: `npx turbo run build --filter=gateway`).
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { performance } from "node:perf_hooks";
import { fileURLToPath, pathToFileURL } from "node:url";

const TOKEN = "bench-token-0123456789";
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
const percentile = (values, p) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
};

/** Spawn the built gateway on port 0 with the config in `stateDir`; resolves with its port and a stop(). */
export async function spawnBuiltGateway({ root, stateDir }) {
  const child = spawn(
    process.execPath,
    [join(root, "apps", "gateway", "dist", "main.js"), "run", "--port", "0", "--state-dir", stateDir],
    { cwd: root, stdio: ["ignore", "pipe", "inherit"] },
  );
  const port = await new Promise((resolve, reject) => {
    let output = "";
    child.stdout.on("data", (chunk) => {
      output += chunk;
      const match = /listening on ws:\/\/127\.0\.0\.1:(\d+)/.exec(output);
      if (match) resolve(Number(match[1]));
    });
    child.once("exit", (code) => reject(new Error(`the gateway exited with ${code} before it was ready`)));
  });
  const stop = () =>
    new Promise((resolve) => {
      if (child.exitCode !== null) return resolve();
      child.once("exit", resolve);
      child.kill("SIGTERM");
      setTimeout(() => child.kill("SIGKILL"), 5_000).unref();
    });
  return { port, stop };
}

/** The smallest protocol client: connect with the token, then hand every event frame to `onEvent`. */
async function protocolClient(WebSocket, port) {
  const socket = new WebSocket(`ws://127.0.0.1:${port}`, { perMessageDeflate: false });
  const client = { onEvent: undefined, close: () => socket.terminate() };
  await new Promise((resolve, reject) => {
    socket.once("open", resolve);
    socket.once("error", reject);
  });
  const hello = new Promise((resolve) => {
    socket.on("message", (data) => {
      // `{"type":"e…`: an event, counted without decoding.
      if (data[9] === 0x65) return client.onEvent?.(data);
      const frame = JSON.parse(data.toString());
      if (frame.id === "1") resolve(frame);
    });
  });
  socket.send(
    JSON.stringify({
      type: "req",
      id: "1",
      method: "connect",
      params: {
        minProtocol: 4,
        maxProtocol: 4,
        client: { id: "bench", version: "1", platform: "linux", mode: "test" },
        auth: { token: TOKEN },
      },
    }),
  );
  const answer = await hello;
  if (!answer.ok) throw new Error(`connect refused: ${JSON.stringify(answer.error)}`);
  return client;
}

/** Inbound DM → the first agent event of its run, through the built gateway; and discord.js alone as the floor. */
async function measureInbound({ root, quick, spawnGateway, startFakeDiscord, discord, WebSocket }) {
  const fake = await startFakeDiscord();
  const bot = fake.addBot("bench_bot");
  const stateDir = mkdtempSync(join(tmpdir(), "gateway-bench-discord-"));
  writeFileSync(
    join(stateDir, "gateway.json5"),
    JSON.stringify({
      gateway: { auth: { mode: "token", token: TOKEN } },
      session: { dmScope: "per-peer" },
      channels: {
        discord: { token: bot.token, apiRoot: fake.apiRoot, dmPolicy: "open", allowFrom: ["*"], debounceMs: 0 },
      },
    }),
  );
  const count = quick ? 100 : 400;
  const gateway = await spawnGateway({ root, stateDir });
  const latencies = [];
  try {
    await fake.until(() => fake.gatewayLog.some((entry) => entry.kind === "ready"), 15_000);
    await sleep(500); // GUILD_CREATEs and the READY status settle
    const client = await protocolClient(WebSocket, gateway.port);
    for (let index = 0; index < count + 20; index++) {
      const user = { id: String(10_000 + index), username: `bench${index}`, global_name: "Bench" };
      const runStarted = new Promise((resolve) => {
        client.onEvent = (data) => {
          if (data.toString().includes('"event":"agent"')) resolve(performance.now());
        };
      });
      const started = performance.now();
      fake.dm(bot.token, user, `benchmark message ${index}`);
      const at = await runStarted;
      client.onEvent = undefined;
      if (index >= 20) latencies.push(at - started);
      await sleep(2); // let the run finish and its reply go out before the next message
    }
    client.close();
  } finally {
    await gateway.stop();
    rmSync(stateDir, { recursive: true, force: true });
  }
  // The floor: the same injection into discord.js in this process, to its messageCreate.
  const floor = [];
  const library = new discord.Client({
    intents: [
      discord.GatewayIntentBits.Guilds,
      discord.GatewayIntentBits.DirectMessages,
      discord.GatewayIntentBits.MessageContent,
    ],
    partials: [discord.Partials.Channel],
    rest: { api: fake.apiRoot },
  });
  const ready = new Promise((resolve) => library.once(discord.Events.ClientReady, resolve));
  await library.login(bot.token);
  await ready;
  for (let index = 0; index < count + 20; index++) {
    const received = new Promise((resolve) =>
      library.once(discord.Events.MessageCreate, () => resolve(performance.now())),
    );
    const started = performance.now();
    fake.dm(bot.token, { id: String(50_000 + index), username: "floor" }, `floor message ${index}`);
    const at = await received;
    if (index >= 20) floor.push(at - started);
  }
  await library.destroy();
  await fake.close();
  return {
    p50: percentile(latencies, 50),
    p99: percentile(latencies, 99),
    libraryP50: percentile(floor, 50),
    libraryP99: percentile(floor, 99),
    count,
  };
}

/** The most reconnects a backoff of `baseMs`·2^(n-1) (capped at `maxMs`, jitter ±50 %) allows in `windowMs`. */
function allowedReconnects(windowMs, baseMs, maxMs, perAttemptMs) {
  let elapsed = 0;
  let attempts = 0;
  while (true) {
    const next = elapsed + 0.5 * Math.min(maxMs, baseMs * 2 ** attempts) + perAttemptMs;
    if (next > windowMs) return attempts;
    elapsed = next;
    attempts++;
  }
}

/** IDENTIFYs a day the session start guard lets through when every session is lost, at the jitter's lower bound. */
function identifyCeiling() {
  let elapsed = 0;
  let identifies = 1;
  for (let streak = 1; ; streak++) {
    elapsed += 0.7 * Math.min(600_000, 5_000 * 2 ** (streak - 1));
    if (elapsed > 86_400_000) return identifies;
    identifies++;
  }
}

/**
 * One flapping run: the plugin's account and a plain discord.js client, each on its own bot of one fake that cuts
 * every connection `closeAfterMs` after it is ready (and forgets its session when `invalidateSession`).
 */
async function flappingRun({ windowMs, invalidateSession, startFakeDiscord, discord, plugin, createTestContext }) {
  const fake = await startFakeDiscord();
  const ours = fake.addBot("paced_bot");
  const stock = fake.addBot("stock_bot");
  const config = { token: ours.token, apiRoot: fake.apiRoot };
  const test = createTestContext("discord", "default", config);
  const account = plugin.discordChannel.createAccount("default", config);
  await account.start(test.context);
  const library = new discord.Client({
    intents: [discord.GatewayIntentBits.Guilds, discord.GatewayIntentBits.DirectMessages],
    rest: { api: fake.apiRoot },
  });
  library.on("error", () => {});
  const ready = new Promise((resolve) => library.once(discord.Events.ClientReady, resolve));
  await library.login(stock.token);
  await ready;
  const count = (token, kind, since) =>
    fake.gatewayLog.filter((entry) => entry.token === token && entry.kind === kind && entry.at >= since).length;
  const since = Date.now();
  fake.flap({ closeAfterMs: 100, invalidateSession });
  fake.drop(ours.token);
  fake.drop(stock.token);
  await sleep(windowMs);
  fake.flap(undefined);
  const perMinute = (value) => (value * 60_000) / windowMs;
  const figures = (token) => {
    const identifies = count(token, "identify", since);
    const resumes = count(token, "resume", since);
    return {
      reconnects: perMinute(identifies + resumes),
      identifies: perMinute(identifies),
      resumes: perMinute(resumes),
    };
  };
  const result = { plugin: figures(ours.token), library: figures(stock.token) };
  await account.stop();
  test.dispose();
  await library.destroy();
  await fake.close();
  return result;
}

/** Reconnects and IDENTIFYs per minute under a flapping gateway: sessions kept (RESUME) and sessions lost. */
async function measureFlapping({ quick, ...modules }) {
  const windowMs = quick ? 20_000 : 60_000;
  const kept = await flappingRun({ windowMs, invalidateSession: false, ...modules });
  const lost = await flappingRun({ windowMs, invalidateSession: true, ...modules });
  // The plugin's defaults: base 1 s, max 60 s; each attempt also costs discord.js's 0.5 s and the 0.1 s of uptime.
  const allowed = (allowedReconnects(windowMs, 1_000, 60_000, 600) * 60_000) / windowMs;
  return {
    windowMs,
    allowedPerMinute: allowed,
    // Discord: 1,000 session starts a day (≈ 0.7/min sustained), at most one per 5 s (12/min).
    identifyLimitPerMinute: 12,
    identifyLimitPerDay: 1_000,
    // What the guard allows a gateway that loses every session, all day: 5 s, 10 s … then one per 10 min (jitter
    // −30 %: 7 min); discord.js alone re-IDENTIFYs every 5 s.
    pluginIdentifyCeilingPerDay: identifyCeiling(),
    libraryIdentifyCeilingPerDay: 86_400 / 5,
    kept,
    lost,
  };
}

/**
 * All Discord figures. `spawnGateway({ root, stateDir })` → `{ port, stop() }` starts the built gateway; `only`
 * measures one part ("inbound" or "flapping").
 */
export async function measureDiscord({ root, quick = false, spawnGateway = spawnBuiltGateway, only }) {
  const requireFromPlugin = createRequire(join(root, "packages", "channel-discord", "package.json"));
  const discord = requireFromPlugin("discord.js");
  const { WebSocket } = createRequire(join(root, "package.json"))("ws");
  const { startFakeDiscord } = await import(
    pathToFileURL(join(root, "tooling", "fakes", "src", "fake-discord.ts")).href
  );
  const plugin = await import(pathToFileURL(join(root, "packages", "channel-discord", "dist", "index.js")).href);
  const { createTestContext } = await import(
    pathToFileURL(join(root, "packages", "plugin-sdk", "dist", "test-context.js")).href
  );
  const modules = { startFakeDiscord, discord, plugin, createTestContext, WebSocket };
  const inbound = only === "flapping" ? undefined : await measureInbound({ root, quick, spawnGateway, ...modules });
  const flapping = only === "inbound" ? undefined : await measureFlapping({ quick, ...modules });
  return { inbound, flapping };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const root = join(dirname(fileURLToPath(import.meta.url)), "..", "..");
  const quick = process.argv.includes("--quick");
  const only = /^--only=(inbound|flapping)$/.exec(process.argv.find((arg) => arg.startsWith("--only=")) ?? "")?.[1];
  const figures = await measureDiscord({ root, quick, only });
  const ms = (value) => `${value.toFixed(2)} ms`;
  const rate = (value) => `${value.toFixed(1)}/min`;
  const { inbound, flapping } = figures;
  const rows = [["figure", "target", "measured", "same-run baseline"]];
  if (inbound)
    rows.push([
      `inbound Discord DM → agent run started (built gateway, echo): p50 / p99 (${inbound.count} DMs)`,
      "p99 ≤ 20 ms",
      `${ms(inbound.p50)} / ${ms(inbound.p99)}`,
      `${ms(inbound.libraryP50)} / ${ms(inbound.libraryP99)} (discord.js alone: inject → messageCreate)`,
    ]);
  if (flapping)
    rows.push(
      [
        "flapping gateway, sessions kept: reconnects (RESUMEs) per minute",
        `≤ ${rate(flapping.allowedPerMinute)} (the backoff)`,
        `${rate(flapping.kept.plugin.reconnects)} (${rate(flapping.kept.plugin.identifies)} IDENTIFY)`,
        `${rate(flapping.kept.library.reconnects)} (${rate(flapping.kept.library.identifies)} IDENTIFY) discord.js alone`,
      ],
      [
        "flapping gateway, sessions lost: reconnects / IDENTIFYs per minute",
        `IDENTIFY ≤ ${rate(flapping.identifyLimitPerMinute)} and ≤ 1,000/day (Discord)`,
        `${rate(flapping.lost.plugin.reconnects)} / ${rate(flapping.lost.plugin.identifies)}`,
        `${rate(flapping.lost.library.reconnects)} / ${rate(flapping.lost.library.identifies)} discord.js alone`,
      ],
      [
        "IDENTIFY ceiling per day when every session is lost (from the policy)",
        "≤ 1,000/day (Discord resets the token above)",
        `${flapping.pluginIdentifyCeilingPerDay}/day`,
        `${flapping.libraryIdentifyCeilingPerDay}/day discord.js alone`,
      ],
    );
  const widths = rows[0].map((_, column) => Math.max(...rows.map((row) => row[column].length)));
  for (const row of rows)
    process.stdout.write(`${row.map((cell, column) => cell.padEnd(widths[column])).join("  ")}\n`);
  if (flapping) process.stdout.write(`\n(window ${flapping.windowMs / 1000} s per flapping run)\n`);
  process.stdout.write(`${JSON.stringify(figures)}\n`);
}
