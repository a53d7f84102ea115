// Against real Redis: calls between instances (results, validation, remote errors), a target that is not there, one
// that dies mid-call (kill -9 of another process), a timeout, a Redis restart, and no pending call left behind.
import { type ChildProcess, spawn } from "node:child_process";
import { rmSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
// @ts-expect-error -- a plain .mjs helper of the private vitest preset
import { hasRedisServer, startRedisServer } from "@gateway/vitest-preset/redis";
import { checkAvailable, until } from "@gateway/vitest-preset/wait";
import { Type } from "@sinclair/typebox";
import { Redis } from "ioredis";
import { describe, expect, it } from "vitest";
import { FleetRpc, FleetRpcError } from "../src/index.js";
import { fleetTestRedis } from "./support/redis.js";

const here = dirname(fileURLToPath(import.meta.url));
const shared = fleetTestRedis("rpc");
const { cleanups, available, unique } = shared;

async function instance(id: string, keyPrefix: string, connection = shared.redis, aliveMs = 600): Promise<FleetRpc> {
  const rpc = new FleetRpc(connection, { id, keyPrefix, aliveMs });
  cleanups.push(() => rpc.close());
  return rpc;
}

async function failure(promise: Promise<unknown>): Promise<FleetRpcError> {
  const error = await promise.then(
    () => undefined,
    (caught: unknown) => caught,
  );
  expect(error).toBeInstanceOf(FleetRpcError);
  return error as FleetRpcError;
}

describe("FleetRpc", () => {
  it("a call reaches the handler of the instance named and gets its result; bad params and throws come back typed", async () => {
    if (!available()) return;
    const keyPrefix = unique();
    const a = await instance("a", keyPrefix);
    const b = await instance("b", keyPrefix);
    const seen: string[] = [];
    b.serve(
      "add",
      (params, { from }) => {
        seen.push(from);
        const { x, y } = params as { x: number; y: number };
        return x + y;
      },
      { params: Type.Object({ x: Type.Number(), y: Type.Number() }) },
    );
    b.serve("fail", () => {
      throw Object.assign(new Error("no such session"), { code: "INVALID_REQUEST" });
    });
    await Promise.all([a.start(), b.start()]);
    expect(await a.call("b", "add", { x: 2, y: 3 })).toBe(5);
    expect(seen).toEqual(["a"]);
    // Many at once: each reply finds its own call.
    const sums = await Promise.all(Array.from({ length: 20 }, (_, x) => a.call("b", "add", { x, y: 1 })));
    expect(sums).toEqual(Array.from({ length: 20 }, (_, x) => x + 1));
    expect(await failure(a.call("b", "add", { x: "2" }))).toMatchObject({ kind: "remote", message: /invalid params/ });
    expect(await failure(a.call("b", "fail", {}))).toMatchObject({
      kind: "remote",
      code: "INVALID_REQUEST",
      message: "no such session",
    });
    expect(await failure(a.call("b", "nothing", {}))).toMatchObject({ kind: "remote", message: /not served/ });
    expect(await failure(a.call("b", "add", { x: 1, y: 1 }, { result: Type.String() }))).toMatchObject({
      kind: "remote",
      message: /expected shape/,
    });
    // Garbage in the list is dropped; the next call still works.
    await shared.redis.rpush(`${keyPrefix}rpc:b`, "not json", JSON.stringify({ hello: 1 }));
    expect(await a.call("b", "add", { x: 1, y: 1 })).toBe(2);
    expect(a.pending).toBe(0);
  });

  it("an instance that is not serving is unavailable at once; a handler that never answers times out; nothing stays pending", async () => {
    if (!available()) return;
    const keyPrefix = unique();
    const a = await instance("a", keyPrefix);
    const b = await instance("b", keyPrefix);
    b.serve("hang", () => new Promise(() => {}));
    await Promise.all([a.start(), b.start()]);
    const started = performance.now();
    const missing = await failure(a.call("nobody", "hang", {}, { timeoutMs: 5_000 }));
    expect(missing.kind).toBe("unavailable");
    expect(missing.message).toMatch(/gateway status --fleet/);
    expect(performance.now() - started).toBeLessThan(1_000);
    expect((await failure(a.call("b", "hang", {}, { timeoutMs: 300 }))).kind).toBe("timeout");
    const controller = new AbortController();
    const abandoned = a.call("b", "hang", {}, { timeoutMs: 5_000, signal: controller.signal });
    controller.abort();
    expect((await failure(abandoned)).kind).toBe("unavailable");
    // A call pending when its own instance stops fails at once.
    const closing = failure(a.call("b", "hang", {}, { timeoutMs: 5_000 }));
    await a.close();
    expect((await closing).kind).toBe("unavailable");
    expect(a.pending).toBe(0);
  });

  it("a target killed (-9) mid-call: the call fails as unavailable within its alive time, long before the timeout", async () => {
    if (!available()) return;
    const keyPrefix = unique();
    const child: ChildProcess = spawn(
      process.execPath,
      ["--import", "tsx", join(here, "fixtures", "rpc-server.ts"), shared.url, keyPrefix, "far", "600"],
      { stdio: ["ignore", "pipe", "inherit"] },
    );
    cleanups.push(() => child.kill("SIGKILL"));
    let output = "";
    child.stdout!.on("data", (chunk) => {
      output += chunk;
    });
    await until(() => output.includes("SERVING"), { timeoutMs: 15_000, message: "the child to serve" });
    const a = await instance("a", keyPrefix);
    await a.start();
    expect(await a.call("far", "slow", 10)).toBe("late");
    const call = a.call("far", "slow", 20_000, { timeoutMs: 20_000 });
    await new Promise((resolve) => setTimeout(resolve, 200));
    const started = performance.now();
    child.kill("SIGKILL");
    const error = await failure(call);
    expect(error.kind).toBe("unavailable");
    expect(error.message).toMatch(/stopped serving during the call/);
    expect(performance.now() - started).toBeLessThan(2_500);
    expect(a.pending).toBe(0);
  }, 30_000);

  it("a Redis restart: calls during it fail typed (none hangs), and calls work again once it is back", async (context) => {
    if (!checkAvailable(hasRedisServer(), "redis-server (for an outage of its own)")) return context.skip();
    const server = await startRedisServer();
    const connect = () => {
      const connection = new Redis(server.url, { maxRetriesPerRequest: 1, retryStrategy: () => 50 });
      connection.on("error", () => {});
      cleanups.push(() => connection.disconnect());
      return connection;
    };
    cleanups.push(() => rmSync(server.dir, { recursive: true, force: true }));
    const keyPrefix = unique();
    const a = await instance("a", keyPrefix, connect(), 1_000);
    const b = await instance("b", keyPrefix, connect(), 1_000);
    b.serve("echo", (params) => params);
    await Promise.all([a.start(), b.start()]);
    expect(await a.call("b", "echo", "one")).toBe("one");
    await server.kill();
    const during = await failure(a.call("b", "echo", "two", { timeoutMs: 1_500 }));
    expect(["unavailable", "timeout"]).toContain(during.kind);
    const again = await startRedisServer({ port: server.port, dir: server.dir });
    cleanups.push(() => again.kill());
    await until(
      async () => (await a.call("b", "echo", "three", { timeoutMs: 1_000 }).catch(() => undefined)) === "three",
      { timeoutMs: 10_000, message: "calls to work again after the restart" },
    );
    expect(a.pending).toBe(0);
  }, 30_000);
});
