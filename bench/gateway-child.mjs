// The gateway under benchmark (built @gateway/server and @gateway/agent), in its own process. Prints "READY <port>".
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Type } from "@sinclair/typebox";
import { AgentService, createEchoBackend } from "../packages/agent/dist/index.js";
import { createGatewayServer } from "../packages/server/dist/index.js";

const server = createGatewayServer({
  port: 0,
  auth: { mode: "token", token: "bench-token-0123456789" },
  version: "bench",
  logging: { level: "warn", stdout: false, file: false },
  // 10,000 connections come from one loopback address in the benchmark, 250 handshakes at a time.
  maxConnectionsPerAddress: 20_000,
  maxPendingPerAddress: 1_000,
});
server.registerMethod(
  "bench.broadcast",
  ({ count, bytes }) => {
    const payload = { ts: Date.now(), status: "sent", preview: "x".repeat(bytes) };
    for (let index = 0; index < count; index++) server.broadcast("heartbeat", payload);
    return { sent: count };
  },
  { params: Type.Object({ count: Type.Integer(), bytes: Type.Integer() }), scope: "operator.admin" },
);
server.registerMethod(
  "bench.gc",
  () => {
    globalThis.gc?.();
    return process.memoryUsage();
  },
  { params: Type.Object({}), scope: "operator.admin" },
);
// The agent with the echo backend (no model): chat.send → first delta measures the gateway's own path.
const stateDir = mkdtempSync(join(tmpdir(), "gateway-bench-"));
const agent = new AgentService(
  {
    registerMethod: (name, handler, options) => server.registerMethod(name, handler, options),
    broadcast: (event, payload) => server.broadcast(event, payload),
  },
  { stateDir, runtime: createEchoBackend() },
);
agent.register();
server.registerService({
  name: "bench-state",
  start() {},
  stop: () => rmSync(stateDir, { recursive: true, force: true }),
});
const address = await server.listen();
process.stdout.write(`READY ${address.port}\n`);
process.on("SIGTERM", () => server.close().then(() => process.exit(0)));
