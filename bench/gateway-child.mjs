// The gateway under benchmark (built @gateway/server), in its own process. Prints "READY <port>".
import { Type } from "@sinclair/typebox";
import { createGatewayServer } from "../packages/server/dist/index.js";

const server = createGatewayServer({
  port: 0,
  auth: { mode: "token", token: "bench-token-0123456789" },
  version: "bench",
  logging: { level: "warn", stdout: false, file: false },
  // 10,000 connections come from one loopback address in the benchmark.
  maxConnectionsPerAddress: 20_000,
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
    return { rss: process.memoryUsage.rss() };
  },
  { params: Type.Object({}), scope: "operator.admin" },
);
const address = await server.listen();
process.stdout.write(`READY ${address.port}\n`);
process.on("SIGTERM", () => server.close().then(() => process.exit(0)));
