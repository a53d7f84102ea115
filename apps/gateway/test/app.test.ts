// The user's first command: the built `gateway` binary starts on its embedded defaults, answers a client, says what
// is missing, and stops cleanly on SIGTERM.
import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { startFakeOpenAI } from "@gateway/fakes";
import { type ChatMessage, chatMessageText } from "@gateway/protocol";
// @ts-expect-error -- a plain .mjs helper of the private vitest preset
import { hasRedisServer, startRedisServer, useRedis } from "@gateway/vitest-preset/redis";
import { eventually, skipUnlessAvailable } from "@gateway/vitest-preset/wait";
import { Redis } from "ioredis";
import OpenAI from "openai";
import { afterEach, beforeAll, describe, expect, it } from "vitest";
import { WebSocket } from "ws";
import { rawConnect } from "./support/gateway-process.js";

const appDir = join(dirname(fileURLToPath(import.meta.url)), "..");
const main = join(appDir, "dist", "main.js");
const children: ChildProcess[] = [];
const dirs: string[] = [];

beforeAll(() => {
  // `npm test` builds first; a bare vitest run builds here when the bundle is missing.
  if (!existsSync(main))
    spawnSync(process.execPath, [join(appDir, "node_modules", "tsup", "dist", "cli-default.js")], { cwd: appDir });
}, 120_000);

afterEach(() => {
  for (const child of children.splice(0)) child.kill("SIGKILL");
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

function start(args: string[], env: Record<string, string> = {}, existingStateDir?: string) {
  const stateDir = existingStateDir ?? mkdtempSync(join(tmpdir(), "gateway-app-"));
  if (!existingStateDir) dirs.push(stateDir);
  const child = spawn(process.execPath, [main, ...args, "--state-dir", join(stateDir, "state")], {
    env: { ...process.env, ...env, GATEWAY_TOKEN: env.GATEWAY_TOKEN ?? "" },
    stdio: ["ignore", "pipe", "pipe"],
  });
  children.push(child);
  let stdout = "";
  let stderr = "";
  child.stdout!.on("data", (chunk) => {
    stdout += chunk;
  });
  child.stderr!.on("data", (chunk) => {
    stderr += chunk;
  });
  const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
  const listening = new Promise<{ port: number; token: string | undefined }>((resolve, reject) => {
    const check = () => {
      const match = /listening on ws:\/\/127\.0\.0\.1:(\d+)/.exec(stdout);
      if (match)
        resolve({
          port: Number(match[1]),
          // A generated token is never printed: the banner says where it is; read it from there.
          token: /token, generated and saved in /.test(stdout)
            ? /token: "([^"]+)"/.exec(readFileSync(join(stateDir, "state", "gateway.json5"), "utf8"))?.[1]
            : undefined,
        });
    };
    child.stdout!.on("data", check);
    void exited.then((code) => reject(new Error(`exited ${code}: ${stderr}`)));
  });
  listening.catch(() => {}); // the refusal tests await `exited` instead
  return { child, stateDir: join(stateDir, "state"), exited, listening, output: () => stdout, errors: () => stderr };
}

/** Connect, call one method, and resolve with its final result (two-phase methods: the second answer). */
async function rpcOver(port: number, token: string, method: string, params: unknown): Promise<unknown> {
  const socket = await rawConnect(port, token, ["operator.read", "operator.write", "operator.admin"]);
  return new Promise((resolve) => {
    socket.on("message", (data) => {
      const frame = JSON.parse(data.toString());
      if (frame.id !== "m" || frame.payload?.status === "accepted") return;
      socket.close();
      resolve(frame.ok ? frame.payload : frame.error);
    });
    socket.send(JSON.stringify({ type: "req", id: "m", method, params }));
  });
}

async function healthOver(
  port: number,
  token: string,
): Promise<{ ok: boolean; payload: { gateway: { warnings: string[] } } }> {
  const socket = await rawConnect(port, token, ["operator.read", "operator.write", "operator.admin"]);
  return new Promise((resolve) => {
    socket.on("message", (data) => {
      const frame = JSON.parse(data.toString());
      if (frame.id !== "h") return;
      socket.close();
      resolve(frame);
    });
    socket.send(JSON.stringify({ type: "req", id: "h", method: "health" }));
  });
}

describe("the gateway app", () => {
  it("first run: writes a starter config with a token, says what is missing, and stops on SIGTERM", async () => {
    const app = start(["--port", "0"]);
    const { port, token } = await app.listening;
    expect(token).toMatch(/^[\w-]{43}$/);
    expect(app.output()).not.toContain(token!);
    expect(app.output()).toMatch(/model\s+none: the echo agent answers \(set models\.providers/);
    expect(app.output()).toMatch(/redis\s+off: set GATEWAY_REDIS_URL/);
    expect(statSync(app.stateDir).mode & 0o777).toBe(0o700);
    const configFile = join(app.stateDir, "gateway.json5");
    expect(statSync(configFile).mode & 0o777).toBe(0o600);
    expect(readFileSync(configFile, "utf8")).toContain(token!);
    const health = await healthOver(port, token!);
    expect(health.ok).toBe(true);
    expect(health.payload.gateway.warnings.join("\n")).toMatch(
      /no model configured — replies come from the echo agent/,
    );
    app.child.kill("SIGTERM");
    expect(await app.exited).toBe(0);
  });

  it("keeps the token across restarts, from the config file", async () => {
    const first = start(["--port", "0"]);
    const { token } = await first.listening;
    first.child.kill("SIGTERM");
    await first.exited;
    const second = start(["--port", "0"], {}, dirname(first.stateDir));
    const { port, token: regenerated } = await second.listening;
    expect(regenerated).toBeUndefined();
    expect(second.output()).toMatch(/token \(from gateway\.auth\.token in /);
    expect((await healthOver(port, token!)).ok).toBe(true);
    second.child.kill("SIGTERM");
    expect(await second.exited).toBe(0);
  });

  it("refuses an invalid config file with every problem and exit code 2", async () => {
    const stateDir = mkdtempSync(join(tmpdir(), "gateway-app-"));
    dirs.push(stateDir);
    mkdirSync(join(stateDir, "state"));
    writeFileSync(join(stateDir, "state", "gateway.json5"), "{ gateway: { prot: 1, bind: 'moon' } }");
    const app = start(["--port", "0"], {}, stateDir);
    expect(await app.exited).toBe(2);
    expect(app.errors()).toMatch(/the config is invalid \(2 problems\)/);
    expect(app.errors()).toMatch(/gateway\.prot: unknown key.*did you mean `port`\?/);
    expect(app.errors()).toMatch(/gateway\.bind: not an allowed value/);
  });

  it("validates the config and prints every problem", async () => {
    const stateDir = mkdtempSync(join(tmpdir(), "gateway-app-"));
    dirs.push(stateDir);
    const file = join(stateDir, "gateway.json5");
    const run = (args: string[]) =>
      spawnSync(process.execPath, [main, ...args, "--config", file, "--state-dir", stateDir], { encoding: "utf8" });
    expect(run(["config", "path"]).stdout.trim()).toBe(file);
    expect(run(["config", "validate"]).stdout).toMatch(/no config file .* the defaults apply/);
    writeFileSync(file, "{ gateway: { port: 'x', reload: { mode: 'sometimes' } }, logging: { levle: 'info' } }");
    const invalid = run(["config", "validate"]);
    expect(invalid.status).toBe(2);
    expect(invalid.stderr).toMatch(/3 problems/);
    expect(invalid.stderr).toMatch(/gateway\.port: invalid value; expected an integer ≥ 0 and ≤ 65535; found "x"/);
    expect(invalid.stderr).toMatch(/logging\.levle: unknown key.*did you mean `level`\?/);
    writeFileSync(file, "{ gateway: { port: 1234 } }");
    expect(run(["config", "validate"]).stdout).toMatch(/is valid/);
  });

  it("the first reply of the echo agent says that no model is configured", async () => {
    const app = start(["--port", "0"]);
    const { port, token } = await app.listening;
    const first = (await rpcOver(port, token!, "agent", { message: "hello there", idempotencyKey: "e1" })) as {
      summary: string;
    };
    expect(first.summary).toMatch(/^\(no model configured — .*OPENAI_API_KEY.*\)\n\nhello there$/s);
    const second = (await rpcOver(port, token!, "agent", { message: "again", idempotencyKey: "e2" })) as {
      summary: string;
    };
    expect(second.summary).toBe("again");
    app.child.kill("SIGTERM");
    expect(await app.exited).toBe(0);
  });

  it("answers through embedded pi when OPENAI_BASE_URL is set (auto picks pi)", async () => {
    const fake = await startFakeOpenAI();
    try {
      fake.script({ kind: "text", chunks: ["from ", "the ", "model"] });
      const app = start(["--port", "0"], {
        OPENAI_BASE_URL: fake.baseUrl,
        OPENAI_API_KEY: "sk-local",
        GATEWAY_MODEL: "fake-model",
      });
      const { port, token } = await app.listening;
      expect(app.output()).toMatch(/agent\s+pi: openai\/fake-model at http:\/\/127\.0\.0\.1/);
      const reply = await rpcOver(port, token!, "agent", { message: "hello", idempotencyKey: "k1" });
      expect(reply).toMatchObject({ status: "ok", summary: "from the model" });
      expect(fake.requests[0]?.headers.authorization).toBe("Bearer sk-local");
      app.child.kill("SIGTERM");
      expect(await app.exited).toBe(0);
    } finally {
      await fake.close();
    }
  });

  it("uses GATEWAY_TOKEN when set", async () => {
    const app = start(["--port", "0"], { GATEWAY_TOKEN: "from-the-environment-0123456789" });
    const { port, token } = await app.listening;
    expect(token).toBeUndefined();
    expect((await healthOver(port, "from-the-environment-0123456789")).ok).toBe(true);
    app.child.kill("SIGTERM");
    expect(await app.exited).toBe(0);
  });

  it("refuses unsafe or invalid settings with a clear message and exit code 2", async () => {
    const unsafe = start(["--port", "0", "--auth", "none", "--bind", "lan"]);
    expect(await unsafe.exited).toBe(2);
    expect(unsafe.errors()).toMatch(/only allowed on a loopback bind/);
    const badPort = start(["--port", "http"]);
    expect(await badPort.exited).toBe(2);
    expect(badPort.errors()).toMatch(/--port must be 0–65535/);
  });

  it("a DNS-rebinding page cannot reach a --auth none gateway, and the gateway's own page only reads", async () => {
    // The attack: a page served from http://127.0.0.1.<attacker>:PORT (resolving to 127.0.0.1) opened a socket, took
    // operator.admin, switched the agent to the cli backend with config.patch and ran a command through chat.send.
    const app = start(["--port", "0", "--auth", "none"]);
    const { port } = await app.listening;
    const rebound = `127.0.0.1.rebind.example:${port}`;
    const refused = await new Promise<number>((resolve, reject) => {
      const socket = new WebSocket(`ws://127.0.0.1:${port}`, {
        headers: { host: rebound, origin: `http://${rebound}` },
      });
      socket.on("unexpected-response", (_request, response) => resolve(response.statusCode ?? 0));
      socket.on("open", () => reject(new Error("the rebinding page got a socket")));
      socket.on("error", () => {});
    });
    expect(refused).toBe(403);
    // The gateway's own origin, with auth off: read access only, no config writes.
    const socket = new WebSocket(`ws://127.0.0.1:${port}`, { headers: { origin: `http://127.0.0.1:${port}` } });
    const answers = await new Promise<Record<string, any>>((resolve, reject) => {
      const seen: Record<string, any> = {};
      socket.on("error", reject);
      socket.on("message", (data) => {
        const frame = JSON.parse(data.toString());
        if (frame.event === "connect.challenge") {
          const client = { id: "webchat", version: "1", platform: "web", mode: "webchat" };
          const params = { minProtocol: 4, maxProtocol: 4, client, scopes: ["operator.admin", "operator.read"] };
          socket.send(JSON.stringify({ type: "req", id: "c", method: "connect", params }));
        } else if (frame.id === "c") {
          seen.hello = frame.payload;
          const raw = JSON.stringify({ agents: { defaults: { backend: "cli" } } });
          socket.send(JSON.stringify({ type: "req", id: "p", method: "config.patch", params: { raw } }));
        } else if (frame.id === "p") {
          seen.patch = frame;
          socket.close();
          resolve(seen);
        }
      });
    });
    expect(answers.hello.auth.scopes).toEqual(["operator.read"]);
    expect(answers.patch.error.code).toBe("FORBIDDEN");
    app.child.kill("SIGTERM");
    expect(await app.exited).toBe(0);
  });

  it("a second gateway on the same state dir refuses to start, names the first, and leaves its run file alone", async () => {
    const first = start(["--port", "0"]);
    const { port } = await first.listening;
    const runFile = join(first.stateDir, "gateway.run.json");
    const before = readFileSync(runFile, "utf8");
    const second = start(["--port", "0"], {}, dirname(first.stateDir));
    expect(await second.exited).toBe(1);
    expect(second.errors()).toMatch(
      new RegExp(`another gateway \\(pid ${first.child.pid}\\) listening on ws://127\\.0\\.0\\.1:${port}.*--state-dir`),
    );
    expect(readFileSync(runFile, "utf8")).toBe(before);
    first.child.kill("SIGTERM");
    expect(await first.exited).toBe(0);
    expect(existsSync(runFile)).toBe(false);
    // A run file left by a killed gateway is taken over.
    const killed = start(["--port", "0"], {}, dirname(first.stateDir));
    await killed.listening;
    killed.child.kill("SIGKILL");
    await killed.exited;
    expect(existsSync(runFile)).toBe(true);
    const next = start(["--port", "0"], {}, dirname(first.stateDir));
    await next.listening;
    expect(JSON.parse(readFileSync(runFile, "utf8")).pid).toBe(next.child.pid);
    next.child.kill("SIGTERM");
    expect(await next.exited).toBe(0);
  });

  it("explains a busy port", async () => {
    const first = start(["--port", "0"]);
    const { port } = await first.listening;
    const second = start(["--port", String(port)]);
    expect(await second.exited).toBe(1);
    expect(second.errors()).toMatch(/already in use/);
  });
});

describe("the agent from the config, and the OpenAI-compatible endpoint", () => {
  const TOKEN = "http-endpoint-token-0123456789";
  /** A state dir whose config points the agent at the fake model. */
  function withConfig(config: string): string {
    const stateDir = mkdtempSync(join(tmpdir(), "gateway-app-"));
    dirs.push(stateDir);
    mkdirSync(join(stateDir, "state"));
    writeFileSync(join(stateDir, "state", "gateway.json5"), config);
    return stateDir;
  }

  it("serves /v1/chat/completions and /v1/models to the official openai client, keeping sessions by user", async () => {
    const fake = await startFakeOpenAI();
    try {
      const stateDir = withConfig(`{
        gateway: { http: { endpoints: { chatCompletions: { enabled: true } } } },
        models: { providers: { local: { baseUrl: "${fake.baseUrl}", apiKey: "sk-local", models: [{ id: "fake-model" }] } } },
        agents: { defaults: { backend: "openai", model: "local/fake-model" } },
      }`);
      const app = start(["--port", "0"], { GATEWAY_TOKEN: TOKEN }, stateDir);
      const { port } = await app.listening;
      expect(app.output()).toMatch(/agent\s+openai-compatible: local\/fake-model at http:\/\/127\.0\.0\.1/);
      const client = new OpenAI({ baseURL: `http://127.0.0.1:${port}/v1`, apiKey: TOKEN, maxRetries: 0 });

      expect((await client.models.list()).data.map((model) => model.id)).toEqual(["main"]);

      fake.script({ kind: "text", chunks: ["Hello ", "Ada"], usage: { prompt_tokens: 5, completion_tokens: 2 } });
      const answer = await client.chat.completions.create({
        model: "main",
        messages: [{ role: "user", content: "I am Ada" }],
        user: "ada",
      });
      expect(answer.choices[0]?.message.content).toBe("Hello Ada");
      expect(answer.choices[0]?.finish_reason).toBe("stop");
      expect(answer.usage).toMatchObject({ prompt_tokens: 5, completion_tokens: 2, total_tokens: 7 });

      fake.script({ kind: "text", chunks: ["You ", "are ", "Ada."] });
      const stream = await client.chat.completions.create({
        model: "main",
        messages: [{ role: "user", content: "who am I?" }],
        user: "ada",
        stream: true,
      });
      let streamed = "";
      let finish: string | null | undefined;
      for await (const chunk of stream) {
        streamed += chunk.choices[0]?.delta.content ?? "";
        finish = chunk.choices[0]?.finish_reason ?? finish;
      }
      expect(streamed).toBe("You are Ada.");
      expect(finish).toBe("stop");
      // The gateway kept the session of user "ada": the model saw the first exchange.
      expect(fake.requests.at(-1)!.body.messages).toEqual([
        { role: "user", content: "I am Ada" },
        { role: "assistant", content: "Hello Ada" },
        { role: "user", content: "who am I?" },
      ]);

      const wrong = new OpenAI({
        baseURL: `http://127.0.0.1:${port}/v1`,
        apiKey: "wrong-token-0123456789",
        maxRetries: 0,
      });
      await expect(wrong.models.list()).rejects.toMatchObject({ status: 401 });
      const invalid = await fetch(`http://127.0.0.1:${port}/v1/chat/completions`, {
        method: "POST",
        headers: { authorization: `Bearer ${TOKEN}`, "content-type": "application/json" },
        body: JSON.stringify({ model: "main", messages: [] }),
      });
      expect(invalid.status).toBe(400);
      expect(await invalid.json()).toMatchObject({ error: { message: "messages must be a non-empty array" } });
      // A body that is not JSON, or too large, gets the same error shape (not fastify's own).
      const malformed = await fetch(`http://127.0.0.1:${port}/v1/chat/completions`, {
        method: "POST",
        headers: { authorization: `Bearer ${TOKEN}`, "content-type": "application/json" },
        body: "{ not json",
      });
      expect(malformed.status).toBe(400);
      expect(await malformed.json()).toMatchObject({
        error: { type: "invalid_request_error", message: expect.any(String) },
      });
      const huge = await fetch(`http://127.0.0.1:${port}/v1/chat/completions`, {
        method: "POST",
        headers: { authorization: `Bearer ${TOKEN}`, "content-type": "application/json" },
        body: JSON.stringify({ model: "main", messages: [{ role: "user", content: "x".repeat(2 * 1024 * 1024) }] }),
      });
      expect(huge.status).toBe(413);
      expect(await huge.json()).toMatchObject({ error: { type: "invalid_request_error" } });

      // A model error is an API error with the provider's reason, not a hang.
      fake.script({ kind: "error", status: 500, body: JSON.stringify({ error: { message: "model overloaded" } }) });
      await expect(
        client.chat.completions.create({ model: "main", messages: [{ role: "user", content: "hi" }] }),
      ).rejects.toMatchObject({ status: 502, message: expect.stringMatching(/model overloaded/) });
      app.child.kill("SIGTERM");
      expect(await app.exited).toBe(0);
    } finally {
      await fake.close();
    }
  });

  it("runs the heartbeat with HEARTBEAT.md when a model is configured; an acknowledgement is not delivered", async () => {
    const fake = await startFakeOpenAI();
    try {
      const stateDir = withConfig(`{
        models: { providers: { local: { baseUrl: "${fake.baseUrl}", models: [{ id: "fake-model" }] } } },
        agents: { defaults: { backend: "openai", model: "local/fake-model" } },
        heartbeat: { every: "1s", target: "none" },
      }`);
      mkdirSync(join(stateDir, "state", "agents", "main", "workspace"), { recursive: true });
      writeFileSync(join(stateDir, "state", "agents", "main", "workspace", "HEARTBEAT.md"), "- is the backup fresh?\n");
      fake.script({ kind: "text", chunks: ["HEARTBEAT_OK"] });
      const app = start(["--port", "0"], { GATEWAY_TOKEN: TOKEN }, stateDir);
      const { port } = await app.listening;
      expect(app.output()).toMatch(/heartbeat\s+every 1 s \(checklist: HEARTBEAT\.md/);
      // The first heartbeat runs a second after start.
      await eventually(
        async () => expect(await rpcOver(port, TOKEN, "last-heartbeat", {})).toMatchObject({ status: "ok-token" }),
        {
          timeoutMs: 10_000,
        },
      );
      const prompt = JSON.stringify(fake.requests[0]!.body.messages);
      expect(prompt).toMatch(/HEARTBEAT\.md:\\n- is the backup fresh\?/);
      expect(await rpcOver(port, TOKEN, "set-heartbeats", { enabled: false })).toEqual({ ok: true, enabled: false });
      app.child.kill("SIGTERM");
      expect(await app.exited).toBe(0);
    } finally {
      await fake.close();
    }
  });

  it("keeps the endpoint off by default and says how to turn it on", async () => {
    const app = start(["--port", "0"], { GATEWAY_TOKEN: TOKEN });
    const { port } = await app.listening;
    const response = await fetch(`http://127.0.0.1:${port}/v1/models`, {
      headers: { authorization: `Bearer ${TOKEN}` },
    });
    expect(response.status).toBe(404);
    expect(JSON.stringify(await response.json())).toMatch(/gateway\.http\.endpoints\.chatCompletions\.enabled/);
    app.child.kill("SIGTERM");
    expect(await app.exited).toBe(0);
  });

  it("refuses to start on an agent config that cannot work, naming the path", async () => {
    const stateDir = withConfig(`{ agents: { defaults: { model: "nowhere/some-model" } } }`);
    const app = start(["--port", "0"], { GATEWAY_TOKEN: TOKEN }, stateDir);
    expect(await app.exited).toBe(2);
    expect(app.errors()).toMatch(
      /agents\.defaults\.model is "nowhere\/some-model" but models\.providers\.nowhere is not configured/,
    );
  });

  it("switches the backend when the config changes, without a restart", async () => {
    const fake = await startFakeOpenAI();
    try {
      const app = start(["--port", "0"], { GATEWAY_TOKEN: TOKEN });
      const { port } = await app.listening;
      expect(
        ((await rpcOver(port, TOKEN, "agent", { message: "one", idempotencyKey: "a1" })) as { summary: string })
          .summary,
      ).toMatch(/one$/);
      const current = (await rpcOver(port, TOKEN, "config.get", {})) as { hash: string };
      const patched = await rpcOver(port, TOKEN, "config.patch", {
        baseHash: current.hash,
        raw: JSON.stringify({
          models: { providers: { local: { baseUrl: fake.baseUrl, models: [{ id: "fake-model" }] } } },
          agents: { defaults: { backend: "openai", model: "local/fake-model" } },
        }),
      });
      expect(patched).toMatchObject({ ok: true });
      fake.script({ kind: "text", chunks: ["now ", "a ", "model"] });
      const reply = (await rpcOver(port, TOKEN, "agent", { message: "two", idempotencyKey: "a2" })) as {
        summary: string;
      };
      expect(reply.summary).toBe("now a model");
      const health = (await healthOver(port, TOKEN)) as { payload: { gateway: { warnings: string[] } } };
      expect(health.payload.gateway.warnings.join("\n")).not.toMatch(/no model configured/);
      app.child.kill("SIGTERM");
      expect(await app.exited).toBe(0);
    } finally {
      await fake.close();
    }
  });
});

describe("background events through Redis", () => {
  const TOKEN = "redis-bridge-token-0123456789";
  it("the seed's redis-cli commands and `gateway push` reach the main session; the agent answers them", async (context) => {
    // A throwaway Redis, so this gateway's central consumer drains nothing of other tests.
    skipUnlessAvailable(
      spawnSync("redis-cli", ["--version"]).status === 0,
      "redis-cli (the seed's commands run verbatim)",
      () => context.skip(),
    );
    const server = hasRedisServer() ? await startRedisServer() : undefined;
    const shared = server ? undefined : await useRedis();
    skipUnlessAvailable(
      server !== undefined || shared !== undefined,
      "Redis (a redis-server binary, REDIS_URL or 127.0.0.1:6379)",
      () => context.skip(),
    );
    const url: string = server?.url ?? shared!.url;
    try {
      const app = start(["--port", "0"], { GATEWAY_TOKEN: TOKEN, GATEWAY_REDIS_URL: url });
      const { port } = await app.listening;
      expect(app.output()).toMatch(/redis\s+background events from redis:\/\/127\.0\.0\.1:\d+/);
      const cli = (...args: string[]) => spawnSync("redis-cli", ["-u", url, ...args], { encoding: "utf8" });
      cli(
        "LPUSH",
        "agent:events:gateway",
        '{"id":"seed-1","type":"download.complete","source":"my-script","payload":{},"ts":0}',
      );
      cli("PUBLISH", "agent:notify:gateway", "x");
      const pushed = spawnSync(
        process.execPath,
        [main, "push", "deploy.finished", "--source", "ci", "--payload", '{"ok":true}', "--redis", url],
        { encoding: "utf8" },
      );
      expect(pushed.status).toBe(0);
      expect(pushed.stdout).toMatch(/✔ pushed deploy\.finished \([0-9a-f-]{36}\) to gateway/);
      // Both events are answered: two assistant turns in the main session.
      const texts = await eventually(
        async () => {
          const history = (await rpcOver(port, TOKEN, "chat.history", { sessionKey: "agent:main:main" })) as {
            messages: ChatMessage[];
          };
          const lines = history.messages.map((message) => `${message.role}:${chatMessageText(message)}`);
          expect(lines.filter((text) => text.startsWith("assistant:")).length).toBeGreaterThanOrEqual(2);
          return lines;
        },
        { timeoutMs: 10_000 },
      );
      const joined = texts.join("\n");
      expect(joined).toMatch(
        /system:## 🔔 1 event\(s\) — .*\n\n- \*\*\[00:00:00\] download\.complete\*\* \(my-script\)/,
      );
      expect(joined).toMatch(/\*\*\[\d\d:\d\d:\d\d\] deploy\.finished\*\* \(ci\) \{"ok":true\}/);
      expect(texts.filter((text) => text.startsWith("assistant:")).length).toBeGreaterThanOrEqual(2);
      const redis = new Redis(url);
      expect(await redis.llen("agent:events:gateway")).toBe(0);
      redis.disconnect();
      app.child.kill("SIGTERM");
      expect(await app.exited).toBe(0);
    } finally {
      await server?.stop();
      await shared?.stop();
    }
  });

  it("push without Redis says what to set (exit 2)", () => {
    const result = spawnSync(
      process.execPath,
      [main, "push", "x", "--state-dir", mkdtempSync(join(tmpdir(), "gw-push-"))],
      {
        encoding: "utf8",
        env: { ...process.env, GATEWAY_REDIS_URL: "" },
      },
    );
    expect(result.status).toBe(2);
    expect(result.stderr).toMatch(/no Redis configured: pass --redis/);
    const badPayload = spawnSync(
      process.execPath,
      [main, "push", "x", "--payload", "{ nope", "--redis", "redis://127.0.0.1:1"],
      {
        encoding: "utf8",
      },
    );
    expect(badPayload.status).toBe(2);
    expect(badPayload.stderr).toMatch(/--payload is not JSON/);
    const unreachable = spawnSync(process.execPath, [main, "push", "x", "--redis", "redis://127.0.0.1:1"], {
      encoding: "utf8",
    });
    expect(unreachable.status).toBe(3);
    expect(unreachable.stderr).toMatch(/cannot push to Redis at redis:\/\/127\.0\.0\.1:1/);
  });
});
