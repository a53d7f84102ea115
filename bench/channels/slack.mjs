// Slack figures for `pnpm bench` (the built gateway, the real Bolt, the fake Slack in this process):
// - inbound Slack message → agent run started, p50/p99, for Socket Mode and for the HTTP Events API;
// - open sockets of the account over a 100-disconnect storm (refresh_requested and abrupt drops, alternating): the
//   most at any instant (the fake counts every accepted connection), and at rest; messages sent during the storm
//   that got no answer.
// `node bench/channels/slack.mjs [--quick]` runs it alone.
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { performance } from "node:perf_hooks";
import { fileURLToPath } from "node:url";
import { WebSocket } from "ws";

const TOKEN = "bench-token-0123456789";
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
const percentile = (values, p) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
};

/** Spawn `node <args>` in `root`, resolve with the port the ready line names. */
function spawnNode(root, args, readyPattern) {
  const child = spawn(process.execPath, args, { cwd: root, stdio: ["ignore", "pipe", "inherit"] });
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

function stopChild(child) {
  return new Promise((resolve) => {
    if (child.exitCode !== null) return resolve();
    child.once("exit", resolve);
    child.kill("SIGTERM");
    setTimeout(() => child.kill("SIGKILL"), 5_000).unref();
  });
}

/** The smallest protocol client: connect, then a callback for every event frame. */
async function connectClient(port) {
  const socket = new WebSocket(`ws://127.0.0.1:${port}`, { perMessageDeflate: false });
  await new Promise((resolve, reject) => {
    socket.once("open", resolve);
    socket.once("error", reject);
  });
  const client = { onEvent: undefined, close: () => socket.terminate() };
  const hello = new Promise((resolve) => {
    socket.on("message", (data) => {
      if (data[9] === 0x65) return client.onEvent?.(data); // `{"type":"e…`: an event
      resolve(JSON.parse(data.toString()));
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

/**
 * Inject `count` (+20 warm-up) messages one after another, each in a conversation of its own (as the Telegram line
 * does: replies are paced per conversation, and a backlog of them would be measured too), from one of ten senders
 * whose names the warm-up has looked up.
 */
async function inboundLatencies(fake, app, client, users, count) {
  const latencies = [];
  const before = fake.posted.length;
  for (let index = 0; index < count + 20; index++) {
    const user = users[index % users.length];
    const dm = fake.addChannel({ type: "im" });
    const runStarted = new Promise((resolve) => {
      client.onEvent = (data) => {
        if (data.toString().includes('"event":"agent"')) resolve(performance.now());
      };
    });
    const started = performance.now();
    await fake.inject(app, { channel: dm.id, user: user.id, text: `benchmark message ${index}` });
    const at = await runStarted;
    client.onEvent = undefined;
    if (index >= 20) latencies.push(at - started);
    await sleep(2); // let the run finish and its reply go out before the next message
  }
  await fake.until(() => fake.posted.length - before >= count + 20, 30_000);
  return { p50: percentile(latencies, 50), p99: percentile(latencies, 99) };
}

/** 100 disconnects of the account's socket, alternating Slack's refresh_requested and an abrupt drop. */
async function disconnectStorm(fake, app, users, rounds) {
  fake.resetMaxOpen(app);
  const openOf = () => fake.sockets.filter((socket) => socket.appId === app.appId && !socket.closedAt);
  const before = fake.posted.length;
  const started = performance.now();
  for (let round = 0; round < rounds; round++) {
    // The newest greeted socket is the one in use (an older one may still be closing).
    const current = openOf()
      .filter((socket) => socket.hello)
      .sort((a, b) => b.id - a.id)[0];
    if (!current) throw new Error("no greeted socket to disconnect");
    if (round % 2 === 0) fake.disconnect(app, "refresh_requested", { socketId: current.id, closeAfterMs: 10_000 });
    else fake.dropSocket(current.id);
    const dm = fake.addChannel({ type: "im" });
    await fake.inject(app, { channel: dm.id, user: users[round % users.length].id, text: `storm message ${round}` });
    // replaced: a newer socket greeted, and this one closed
    await fake.until(
      () => current.closedAt !== undefined && openOf().some((socket) => socket.id > current.id && socket.hello),
      20_000,
    );
  }
  const elapsed = performance.now() - started;
  // Replies are paced per conversation (1/s), so the last ones trail the storm: wait for them (bounded).
  const stormReplies = () =>
    fake.posted
      .slice(before)
      .map((message) => /storm message (\d+)$/.exec(message.text)?.[1])
      .filter(Boolean);
  await fake.until(() => new Set(stormReplies()).size >= rounds, 30_000).catch(() => undefined);
  await sleep(1_000);
  const replies = stormReplies();
  const answered = new Set(replies);
  return {
    maxOpenSockets: fake.maxOpenSockets(app),
    openAtRest: fake.openSockets(app),
    lost: rounds - answered.size,
    duplicated: replies.length - answered.size,
    perReplacementMs: elapsed / rounds,
  };
}

/**
 * The Slack figures: `socket` and `http` inbound latencies ({ p50, p99 } in ms) and `storm` ({ maxOpenSockets,
 * openAtRest, lost, duplicated, perReplacementMs }). `spawnGateway(args, readyPattern)` → `{ child, port }` (the bench's own
 * spawner) is optional.
 */
export async function measureSlack({ root, quick = false, spawnGateway } = {}) {
  const { tsImport } = await import("tsx/esm/api");
  const { startFakeSlack } = await tsImport(join(root, "tooling/fakes/src/fake-slack.ts"), import.meta.url);
  const fake = await startFakeSlack();
  const socketApp = fake.addApp({ botName: "bench_socket_bot" });
  const httpApp = fake.addApp({ botName: "bench_http_bot" });
  const users = Array.from({ length: 10 }, (_, index) =>
    fake.addUser({ name: `user${index}`, real_name: `Bench User ${index}` }),
  );
  const stateDir = mkdtempSync(join(tmpdir(), "gateway-bench-slack-"));
  writeFileSync(
    join(stateDir, "gateway.json5"),
    JSON.stringify({
      gateway: { auth: { mode: "token", token: TOKEN } },
      session: { dmScope: "per-peer" },
      channels: {
        slack: {
          apiUrl: fake.apiUrl,
          dmPolicy: "open",
          allowFrom: ["*"],
          debounceMs: 0,
          // A short reconnect step so the storm's abrupt drops take 300 ms each, not 5 s (the default).
          socket: { clientPingTimeoutMs: 300 },
          accounts: {
            socket: { botToken: socketApp.botToken, appToken: socketApp.appToken },
            http: { mode: "http", botToken: httpApp.botToken, signingSecret: httpApp.signingSecret },
          },
        },
      },
    }),
  );
  const spawnIt = spawnGateway ?? ((args, pattern) => spawnNode(root, args, pattern));
  const { child, port } = await spawnIt(
    [join(root, "apps", "gateway", "dist", "main.js"), "run", "--port", "0", "--state-dir", stateDir],
    /listening on ws:\/\/127\.0\.0\.1:(\d+)/,
  );
  try {
    fake.setRequestUrl(httpApp, `http://127.0.0.1:${port}/channels/slack/http/events`);
    await fake.until(() => fake.openSockets(socketApp) === 1, 15_000);
    for (let tries = 0; ; tries++) {
      const answer = await fake.postToApp(httpApp, JSON.stringify({ type: "url_verification", challenge: "ready" }));
      if (answer.ok) break;
      if (tries > 100) throw new Error(`the HTTP events route never answered (${answer.status})`);
      await sleep(100);
    }
    const client = await connectClient(port);
    const count = quick ? 100 : 400;
    const socket = await inboundLatencies(fake, socketApp, client, users, count);
    const http = await inboundLatencies(fake, httpApp, client, users, count);
    client.close();
    const storm = await disconnectStorm(fake, socketApp, users, 100);
    return { socket, http, storm };
  } finally {
    await stopChild(child);
    await fake.close();
    rmSync(stateDir, { recursive: true, force: true });
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const root = join(dirname(fileURLToPath(import.meta.url)), "..", "..");
  const figures = await measureSlack({ root, quick: process.argv.includes("--quick") });
  const ms = (value) => `${value.toFixed(1)} ms`;
  console.log(
    `inbound Slack message → agent run started, Socket Mode: p50 ${ms(figures.socket.p50)} / p99 ${ms(figures.socket.p99)}`,
  );
  console.log(
    `inbound Slack message → agent run started, HTTP events: p50 ${ms(figures.http.p50)} / p99 ${ms(figures.http.p99)}`,
  );
  console.log(
    `100-disconnect storm: at most ${figures.storm.maxOpenSockets} sockets open, ${figures.storm.openAtRest} at rest, ${figures.storm.lost} messages lost, ${figures.storm.duplicated} answered twice, ${ms(figures.storm.perReplacementMs)} per replacement`,
  );
}
