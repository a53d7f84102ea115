// The user's first command: the built `gateway` binary starts on its embedded defaults, answers a client, says what
// is missing, and stops cleanly on SIGTERM.
import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { startFakeOpenAI } from "@gateway/fakes";
import { afterEach, beforeAll, describe, expect, it } from "vitest";
import { WebSocket } from "ws";

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
        resolve({ port: Number(match[1]), token: /generated and saved in the config: (\S+)/.exec(stdout)?.[1] });
    };
    child.stdout!.on("data", check);
    void exited.then((code) => reject(new Error(`exited ${code}: ${stderr}`)));
  });
  listening.catch(() => {}); // the refusal tests await `exited` instead
  return { child, stateDir: join(stateDir, "state"), exited, listening, output: () => stdout, errors: () => stderr };
}

/** Connect, call one method, and resolve with its final result (two-phase methods: the second answer). */
function rpcOver(port: number, token: string, method: string, params: unknown): Promise<unknown> {
  const socket = new WebSocket(`ws://127.0.0.1:${port}`);
  const connect = {
    minProtocol: 4,
    maxProtocol: 4,
    client: { id: "cli", version: "1", platform: "linux", mode: "cli" },
    auth: { token },
  };
  return new Promise((resolve, reject) => {
    socket.on("error", reject);
    socket.on("message", (data) => {
      const frame = JSON.parse(data.toString());
      if (frame.event === "connect.challenge") {
        socket.send(JSON.stringify({ type: "req", id: "c", method: "connect", params: connect }));
      } else if (frame.id === "c") {
        socket.send(JSON.stringify({ type: "req", id: "m", method, params }));
      } else if (frame.id === "m" && frame.payload?.status !== "accepted") {
        socket.close();
        resolve(frame.ok ? frame.payload : frame.error);
      }
    });
  });
}

function healthOver(
  port: number,
  token: string,
): Promise<{ ok: boolean; payload: { gateway: { warnings: string[] } } }> {
  const socket = new WebSocket(`ws://127.0.0.1:${port}`);
  return new Promise((resolve, reject) => {
    socket.on("error", reject);
    socket.on("message", (data) => {
      const frame = JSON.parse(data.toString());
      if (frame.event === "connect.challenge") {
        socket.send(
          JSON.stringify({
            type: "req",
            id: "c",
            method: "connect",
            params: {
              minProtocol: 4,
              maxProtocol: 4,
              client: { id: "cli", version: "1", platform: "linux", mode: "cli" },
              auth: { token },
            },
          }),
        );
      } else if (frame.id === "c") {
        if (!frame.ok) reject(new Error(JSON.stringify(frame.error)));
        socket.send(JSON.stringify({ type: "req", id: "h", method: "health" }));
      } else if (frame.id === "h") {
        socket.close();
        resolve(frame);
      }
    });
  });
}

describe("the gateway app", () => {
  it("first run: writes a starter config with a token, says what is missing, and stops on SIGTERM", async () => {
    const app = start(["--port", "0"]);
    const { port, token } = await app.listening;
    expect(token).toMatch(/^[\w-]{43}$/);
    expect(app.output()).toMatch(/model\s+none: the echo agent answers \(set OPENAI_API_KEY/);
    expect(app.output()).toMatch(/redis\s+not needed/);
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

  it("answers with an OpenAI-compatible model when OPENAI_BASE_URL is set", async () => {
    const fake = await startFakeOpenAI();
    try {
      fake.script({ kind: "text", chunks: ["from ", "the ", "model"] });
      const app = start(["--port", "0"], {
        OPENAI_BASE_URL: fake.baseUrl,
        OPENAI_API_KEY: "sk-local",
        GATEWAY_MODEL: "fake-model",
      });
      const { port, token } = await app.listening;
      expect(app.output()).toMatch(/model\s+fake-model at http:\/\/127\.0\.0\.1/);
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

  it("explains a busy port", async () => {
    const first = start(["--port", "0"]);
    const { port } = await first.listening;
    const second = start(["--port", String(port)]);
    expect(await second.exited).toBe(1);
    expect(second.errors()).toMatch(/already in use/);
  });
});
