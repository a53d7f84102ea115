// A user's first day, through the real built binary: the CLI keeps working with a broken config, behaves like a Unix
// tool (pipes, exit codes, "did you mean"), edits the config without losing its comments, and reads the state dir's
// files when the gateway is down.
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
// @ts-expect-error -- a plain .mjs helper of the private vitest preset
import { runProcess } from "@gateway/vitest-preset/run-process";
import { skipUnlessAvailable, until } from "@gateway/vitest-preset/wait";
import JSON5 from "json5";
import { beforeAll, describe, expect, it } from "vitest";
import { cli, freePort, main, type Result, shell, startGateway, tempDir } from "./support/gateway-process.js";

/** A Node older than 22.19 on this machine (Debian's is 20), to show what its users see. */
const oldNode = ["/usr/bin/node", "/bin/node"].find((candidate) => {
  const version = existsSync(candidate) ? spawnSync(candidate, ["--version"], { encoding: "utf8" }).stdout : "";
  const [major = 99, minor = 0] = version.replace(/^v/, "").split(".").map(Number);
  return major < 22 || (major === 22 && minor < 19);
});
describe("never locked out: a typo in the config", () => {
  let stateDir = "";
  let port = 0;
  beforeAll(async () => {
    stateDir = tempDir("gateway-firstday-typo-");
    ({ port } = await startGateway(stateDir));
    // The user adds a heartbeat with a typo while the gateway runs; it keeps the last good config.
    const path = join(stateDir, "gateway.json5");
    writeFileSync(path, readFileSync(path, "utf8").replace("logging: {", 'heartbeat: { evry: "1h" },\n  logging: {'));
  }, 40_000);

  it("status, health and logs still run, warning about the problem with its path", async () => {
    for (const command of ["status", "health", "logs"]) {
      const result = await cli(stateDir, [command]);
      expect(result.code, `${command}: ${result.stderr}`).toBe(0);
      expect(result.stderr).toMatch(/gateway\.json5 has 1 problem/);
      expect(result.stderr).toMatch(/heartbeat\.evry: unknown key.*did you mean `every`/);
    }
    const status = await cli(stateDir, ["status"]);
    expect(status.stdout).toMatch(new RegExp(`listening\\s+127\\.0\\.0\\.1:${port}`));
  });

  it("with GATEWAY_URL or --url set too", async () => {
    const token = /token: "([^"]+)"/.exec(readFileSync(join(stateDir, "gateway.json5"), "utf8"))![1]!;
    const viaEnv = await cli(stateDir, ["health"], { GATEWAY_URL: `ws://127.0.0.1:${port}`, GATEWAY_TOKEN: token });
    expect(viaEnv.code).toBe(0);
    const viaFlag = await cli(stateDir, ["status", "--url", `ws://127.0.0.1:${port}`]);
    expect(viaFlag.code).toBe(0);
    expect(viaFlag.stdout).toMatch(/^gateway\s+0\.1\.0/m);
  });

  it("a short GATEWAY_TOKEN goes to the gateway, which says the token is wrong (not 'local config is invalid')", async () => {
    const result = await cli(stateDir, ["status"], { GATEWAY_TOKEN: "short" });
    expect(result.code).toBe(1);
    expect(result.stderr).not.toMatch(/local config is invalid/);
    expect(result.stderr).toMatch(/AUTH_TOKEN_MISMATCH/);
  });
});

describe("the CLI behaves like a good Unix tool", () => {
  let stateDir = "";
  beforeAll(async () => {
    stateDir = tempDir("gateway-firstday-unix-");
    await startGateway(stateDir);
  }, 40_000);

  it("a closed pipe ends it quietly (gateway … | head -1)", async () => {
    // Many separate writes: the reader is gone long before the last one.
    const offline = tempDir("gateway-firstday-pipe-");
    mkdirSync(join(offline, "logs"), { recursive: true });
    const line = (index: number) => JSON.stringify({ level: 30, time: 1_700_000_000_000, msg: `line ${index}` });
    writeFileSync(
      join(offline, "logs", "gateway.log"),
      `${Array.from({ length: 20_000 }, (_, i) => line(i)).join("\n")}\n`,
    );
    const result = await shell(
      `node ${main} logs --limit 20000 --state-dir ${offline} | head -1; echo "exit=\${PIPESTATUS[0]}" >&2`,
      { PATH: `${dirname(process.execPath)}:${process.env.PATH}` },
    );
    expect(result.stdout.trim().split("\n")).toHaveLength(1);
    expect(result.stderr).not.toMatch(/EPIPE|Error|at /);
    expect(result.stderr).toMatch(/exit=0/);
    const status = await shell(
      `node ${main} status --state-dir ${stateDir} | head -1; echo "exit=\${PIPESTATUS[0]}" >&2`,
      {
        PATH: `${dirname(process.execPath)}:${process.env.PATH}`,
      },
    );
    expect(status.stdout).toMatch(/^gateway\s+0\.1\.0, up/);
    expect(status.stderr).toMatch(/^exit=0\n$/);
  });

  it("mistyped commands, actions and flags get 'did you mean'", async () => {
    const command = await cli(stateDir, ["stauts"]);
    expect(command.code).toBe(2);
    expect(command.stderr).toMatch(/unknown command "stauts" — did you mean "status"\?/);
    const flag = await cli(stateDir, ["logs", "--folow"]);
    expect(flag.code).toBe(2);
    expect(flag.stderr).toMatch(/gateway logs does not take --folow — did you mean "--follow"\?/);
    const action = await cli(stateDir, ["config", "gte"]);
    expect(action.stderr).toMatch(/unknown config action "gte" — did you mean "get"\?/);
    const cron = await cli(stateDir, ["cron", "lsit"]);
    expect(cron.stderr).toMatch(/did you mean "list"\?/);
  });

  it("config edit runs the editor without a Node deprecation warning", async () => {
    const edited = await cli(stateDir, ["config", "edit"], { EDITOR: "true" });
    expect(edited.code).toBe(0);
    expect(edited.stderr).not.toMatch(/DeprecationWarning|DEP0/);
    // An editor given with arguments works too.
    const withArgs = await cli(stateDir, ["config", "edit"], { EDITOR: "true --wait" });
    expect(withArgs.code).toBe(0);
  });

  it("chat --json prints one JSON object; with --stream one per event", async () => {
    const json = await cli(stateDir, ["chat", "--json", "--session", "agent:main:json", "hello", "json"]);
    expect(json.code).toBe(0);
    const reply = JSON.parse(json.stdout);
    expect(reply).toMatchObject({ state: "final", sessionKey: "agent:main:json", runId: expect.any(String) });
    expect(reply.text).toMatch(/hello json$/);
    const streamed = await cli(stateDir, ["chat", "--json", "--stream", "--session", "agent:main:json", "streamed"]);
    expect(streamed.code).toBe(0);
    const events = streamed.stdout
      .trim()
      .split("\n")
      .map((line) => JSON.parse(line));
    expect(events[0]).toMatchObject({ type: "start" });
    expect(events.at(-1)).toMatchObject({ type: "end", state: "final" });
    expect(events.filter((event) => event.type === "delta").length).toBeGreaterThan(0);
  });

  it("events prints 'gateway stopped' and exits 3 when the gateway stops", async () => {
    const own = tempDir("gateway-firstday-events-");
    const gateway = await startGateway(own);
    const events = cli(own, ["events"]);
    // Connected when status counts two connections (itself and events).
    await until(async () => /connections\s+2/.test((await cli(own, ["status"])).stdout), {
      timeoutMs: 10_000,
      message: "status showing 2 connections",
    });
    await gateway.stop();
    const result = await events;
    expect(result.stderr).toMatch(/gateway stopped\n$/);
    expect(result.stderr).not.toMatch(/unsettled top-level await/);
    expect(result.code).toBe(3);
  });
});

describe("config get/set/unset keep the file's comments and apply live", () => {
  let stateDir = "";
  let configPath = "";
  let port = 0;
  beforeAll(async () => {
    stateDir = tempDir("gateway-firstday-config-");
    configPath = join(stateDir, "gateway.json5");
    ({ port } = await startGateway(stateDir));
  }, 40_000);

  const comments = (text: string) => text.split("\n").filter((line) => line.trim().startsWith("//"));

  it("config get <path> prints that value of the running config only (secrets redacted)", async () => {
    // The running config: the --port flag wins over the file's 18789.
    const got = await cli(stateDir, ["config", "get", "gateway.port"]);
    expect(got.stdout).toBe(`${port}\n`);
    const auth = await cli(stateDir, ["config", "get", "gateway.auth"]);
    expect(JSON.parse(auth.stdout)).toEqual({ mode: "token", token: "[redacted]" });
    const missing = await cli(stateDir, ["config", "get", "heartbeat.every"]);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toMatch(/heartbeat\.every is not set/);
  });

  it("config set types the value, validates it, applies it live, and keeps every comment (with a .bak)", async () => {
    const before = readFileSync(configPath, "utf8");
    const set = await cli(stateDir, ["config", "set", "logging.level", "debug"]);
    expect(set.code, set.stderr).toBe(0);
    expect(set.stdout).toMatch(/✔ config written \(1 change: logging\.level\), applied live/);
    const after = readFileSync(configPath, "utf8");
    expect(comments(after)).toEqual(comments(before));
    expect(after.split("\n")).toHaveLength(before.split("\n").length);
    expect(readFileSync(`${configPath}.bak`, "utf8")).toBe(before);
    expect((await cli(stateDir, ["config", "get", "logging.level"])).stdout).toBe("debug\n");
    // A number is a number; a wrong type or an unknown key is refused and nothing is written.
    const typed = await cli(stateDir, ["config", "set", "gateway.handshakeTimeoutMs", "5000"]);
    expect(typed.code, typed.stderr).toBe(0);
    expect(JSON5.parse(readFileSync(configPath, "utf8")).gateway.handshakeTimeoutMs).toBe(5000);
    const unchanged = readFileSync(configPath, "utf8");
    const wrong = await cli(stateDir, ["config", "set", "logging.level", "loud"]);
    expect(wrong.code).toBe(1);
    expect(wrong.stderr).toMatch(/invalid/);
    const unknown = await cli(stateDir, ["config", "set", "logging.levle", "info"]);
    expect(unknown.code).toBe(1);
    expect(readFileSync(configPath, "utf8")).toBe(unchanged);
  });

  it("config unset removes a setting; config patch keeps the starter's comments too", async () => {
    const before = readFileSync(configPath, "utf8");
    const unset = await cli(stateDir, ["config", "unset", "gateway.handshakeTimeoutMs"]);
    expect(unset.code, unset.stderr).toBe(0);
    expect(JSON5.parse(readFileSync(configPath, "utf8")).gateway.handshakeTimeoutMs).toBeUndefined();
    const patch = await cli(stateDir, ["config", "patch", "{ logging: { level: 'info' } }"]);
    expect(patch.code, patch.stderr).toBe(0);
    const after = readFileSync(configPath, "utf8");
    expect(comments(after)).toEqual(comments(before));
    expect(after.split("\n").length).toBeGreaterThanOrEqual(39);
  });
});

describe("when the gateway is down, the files are still read", () => {
  let stateDir = "";
  beforeAll(async () => {
    stateDir = tempDir("gateway-firstday-down-");
    const gateway = await startGateway(stateDir);
    const chat = await cli(stateDir, ["chat", "--session", "agent:main:kept", "remember me"]);
    expect(chat.code).toBe(0);
    const cron = await cli(stateDir, ["cron", "add", "--name", "digest", "--every", "1h", "--message", "news?"]);
    expect(cron.code).toBe(0);
    await gateway.stop();
  }, 40_000);

  it("logs, cron list, sessions list and show say they read the files, and exit 0", async () => {
    const logs = await cli(stateDir, ["logs", "--limit", "5"]);
    expect(logs.code).toBe(0);
    expect(logs.stderr).toMatch(/the gateway is not running: this is a read of the files in /);
    expect(logs.stdout).toMatch(/shut|stop/i);
    const cron = await cli(stateDir, ["cron", "list"]);
    expect(cron.code).toBe(0);
    expect(cron.stdout).toMatch(/digest\s+every 1h/);
    const sessions = await cli(stateDir, ["sessions", "list"]);
    expect(sessions.code).toBe(0);
    expect(sessions.stdout).toMatch(/agent:main:kept/);
    const shown = await cli(stateDir, ["sessions", "show", "agent:main:kept"]);
    expect(shown.code).toBe(0);
    expect(shown.stdout).toMatch(/user\s+remember me/);
    // What needs the gateway says so, with the unreachable exit code.
    const reset = await cli(stateDir, ["sessions", "reset", "agent:main:kept"]);
    expect(reset.code).toBe(3);
  });

  it("config set edits the file itself, validated, keeping comments", async () => {
    const path = join(stateDir, "gateway.json5");
    const before = readFileSync(path, "utf8");
    const set = await cli(stateDir, ["config", "set", "gateway.port", "28789"]);
    expect(set.code, set.stderr).toBe(0);
    expect(set.stdout).toMatch(/the gateway is not running here/);
    expect(readFileSync(path, "utf8")).toBe(before.replace("port: 18789", "port: 28789"));
    const refused = await cli(stateDir, ["config", "set", "gateway.port", "huge"]);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/refused \(nothing was written\)[\s\S]*gateway\.port/);
    expect(existsSync(`${path}.bak`)).toBe(true);
  });
});

describe("doctor checks what is really there", () => {
  it("names the port the gateway really answers on, Redis and the model endpoint that do not answer", async () => {
    const dir = tempDir("gateway-firstday-doctor-");
    const closed = await freePort();
    writeFileSync(
      join(dir, "gateway.json5"),
      `{ gateway: { port: 18789, auth: { token: "${"d".repeat(40)}" } },
         redis: { url: "redis://127.0.0.1:${closed}" },
         models: { providers: { ollama: { baseUrl: "http://127.0.0.1:${closed}/v1", models: [{ id: "llama3.1" }] } } },
         agents: { defaults: { model: "ollama/llama3.1" } } }`,
    );
    const gateway = await startGateway(dir);
    const result = await cli(dir, ["doctor", "--json"]);
    expect(result.code).toBe(1);
    const findings = JSON.parse(result.stdout).findings as Array<{ check: string; status: string; detail: string }>;
    const find = (check: string) => findings.find((finding) => finding.check === check);
    expect(find("gateway")).toMatchObject({
      status: "ok",
      detail: expect.stringMatching(
        new RegExp(`answering at 127\\.0\\.0\\.1:${gateway.port} \\(the config says 18789`),
      ),
    });
    expect(find("redis")).toMatchObject({
      status: "fail",
      detail: expect.stringMatching(
        new RegExp(`redis://127\\.0\\.0\\.1:${closed} is set but cannot reach .*ECONNREFUSED`),
      ),
    });
    expect(find("model")).toMatchObject({
      status: "fail",
      detail: expect.stringMatching(/ollama\/llama3\.1: http:\/\/127\.0\.0\.1:\d+\/v1\/models: ECONNREFUSED/),
    });
    expect(find("node")).toMatchObject({ status: "ok" });
    expect(find("disk")).toBeDefined();
    expect(find("service")).toBeDefined();
    await gateway.stop();
  }, 40_000);

  it("--fix repairs permissions, a missing logs dir and a stale run file, saying what it changed", async () => {
    const dir = tempDir("gateway-firstday-fix-");
    writeFileSync(join(dir, "gateway.json5"), `{ gateway: { auth: { token: "${"f".repeat(40)}" } } }`);
    const { chmodSync } = await import("node:fs");
    chmodSync(dir, 0o755);
    chmodSync(join(dir, "gateway.json5"), 0o644);
    // A gateway killed with SIGKILL leaves its run file; this pid is not alive.
    writeFileSync(
      join(dir, "gateway.run.json"),
      JSON.stringify({ pid: 2 ** 22 + 12345, startedAt: 1, url: "ws://127.0.0.1:1" }),
    );
    const before = await cli(dir, ["doctor"]);
    expect(before.stdout).toMatch(/! run file\s+.*gateway\.run\.json is stale/);
    expect(before.stdout).toMatch(/→ chmod 700 .* \(gateway doctor --fix\)/);
    const fixed = await cli(dir, ["doctor", "--fix"]);
    expect(fixed.stdout).toMatch(
      /changed:\n {2}- chmod 700 .*\n {2}- created .*logs\n {2}- chmod 600 .*gateway\.json5\n {2}- removed the stale .*gateway\.run\.json/,
    );
    const { statSync } = await import("node:fs");
    expect(statSync(dir).mode & 0o777).toBe(0o700);
    expect(statSync(join(dir, "gateway.json5")).mode & 0o777).toBe(0o600);
    expect(existsSync(join(dir, "gateway.run.json"))).toBe(false);
    const after = await cli(dir, ["doctor"]);
    expect(after.stdout).not.toMatch(/stale|readable by others/);
  });
});

describe("the first screens", () => {
  it("`npm start -- --help` shows run's options; `gateway --help` lists the commands", async () => {
    const dir = tempDir("gateway-firstday-help-");
    const start = await cli(dir, ["--help"], { GATEWAY_START: "1" });
    expect(start.stdout).toMatch(/--port <n>/);
    expect(start.stdout).not.toMatch(/^ {2}status /m);
    const all = await cli(dir, ["--help"]);
    expect(all.stdout).toMatch(/^ {2}status /m);
  });

  it("the banner's cron hint is a command that works, and a configured model is not listed under 'not yet'", async () => {
    const dir = tempDir("gateway-firstday-banner-");
    writeFileSync(
      join(dir, "gateway.json5"),
      `{ gateway: { auth: { token: "${"t".repeat(32)}" } },
         models: { providers: { local: { baseUrl: "http://127.0.0.1:9/v1", models: [{ id: "m1" }] } } },
         agents: { defaults: { model: "local/m1" } } }`,
    );
    const gateway = await startGateway(dir);
    const banner = gateway.output();
    const hint = /gateway cron add [^)\n]*/.exec(banner)![0];
    expect(hint).toMatch(/--name \S+/);
    const notYet = banner.slice(banner.indexOf("not yet"));
    expect(banner).toMatch(/agent\s+.*local\/m1/);
    expect(notYet).not.toMatch(/model/);
    await gateway.stop();
  }, 40_000);

  it("on Node 20 the binary and npm start say which Node is needed and how to get it", async (context) => {
    skipUnlessAvailable(oldNode !== undefined, "a Node older than 22.19 at /usr/bin/node (Debian's nodejs)", () =>
      context.skip(),
    );
    for (const args of [
      [main, "status"],
      [join(dirname(main), "..", "..", "..", "tooling", "scripts", "bootstrap.mjs"), "start"],
    ]) {
      const result = (await runProcess(oldNode, args)) as Result;
      expect(result.code).toBe(1);
      expect(result.stderr).toMatch(/Node ≥ 22\.19 is needed; this is Node 2\d\./);
      expect(result.stderr).toMatch(/nvm install 24/);
      expect(result.stderr).not.toMatch(/WebSocket/);
    }
  });
});
