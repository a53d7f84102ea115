// Every CLI command against a real, spawned gateway: human and --json output, exit codes, and the messages a user
// sees when something is wrong.
import { type ChildProcess, spawn } from "node:child_process";
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { type ChatMessage, chatMessageText } from "@gateway/protocol";
// @ts-expect-error -- a plain .mjs helper of the private vitest preset
import { runProcess } from "@gateway/vitest-preset/run-process";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

const main = join(dirname(fileURLToPath(import.meta.url)), "..", "dist", "main.js");
let stateDir = "";
let gateway: ChildProcess;
let port = 0;

function cli(args: string[], env: Record<string, string> = {}, input?: string) {
  const withStateDir = args.includes("--state-dir") ? args : [...args, "--state-dir", stateDir];
  return runProcess(process.execPath, [main, ...withStateDir], {
    env: { GATEWAY_TOKEN: "", GATEWAY_URL: "", ...env },
    ...(input !== undefined ? { input } : {}),
  }) as Promise<{ code: number | null; stdout: string; stderr: string }>;
}

beforeAll(async () => {
  stateDir = mkdtempSync(join(tmpdir(), "gateway-cli-"));
  const probe = await import("node:net").then(({ createServer }) => createServer());
  await new Promise<void>((resolve) => probe.listen(0, "127.0.0.1", resolve));
  port = (probe.address() as { port: number }).port;
  await new Promise((resolve) => probe.close(resolve));
  gateway = spawn(process.execPath, [main, "run", "--port", String(port), "--state-dir", stateDir, "--json-logs"], {
    env: { ...process.env, GATEWAY_TOKEN: "" },
    stdio: ["ignore", "pipe", "inherit"],
  });
  await new Promise<void>((resolve) => {
    let output = "";
    gateway.stdout!.on("data", (chunk) => {
      output += chunk;
      if (output.includes("listening on")) resolve();
    });
  });
}, 30_000);

afterAll(async () => {
  gateway.kill("SIGTERM");
  await new Promise((resolve) => gateway.once("exit", resolve));
  rmSync(stateDir, { recursive: true, force: true });
});

describe("gateway CLI against a running gateway (connection from the local config)", () => {
  it("status and health print aligned tables, and JSON with --json", async () => {
    const status = await cli(["status"]);
    expect(status.code).toBe(0);
    expect(status.stdout).toMatch(new RegExp(`listening\\s+127\\.0\\.0\\.1:${port} \\(auth token\\)`));
    // The Control UI's address, with the token in the fragment, and the app really serves it there.
    const ui = new RegExp(`control ui\\s+(http://127\\.0\\.0\\.1:${port}/)#token=(\\S+)`).exec(status.stdout);
    expect(ui).not.toBeNull();
    const page = await fetch(ui![1]!);
    expect(page.headers.get("content-security-policy")).toMatch(/script-src 'self'/);
    expect(await page.text()).toMatch(/<script type="module" src="assets\/main-[\w-]+\.js">/);
    expect(status.stdout).toMatch(/what is missing:\n {2}- no channels configured/);
    const health = await cli(["health", "--json"]);
    expect(health.code).toBe(0);
    expect(JSON.parse(health.stdout)).toMatchObject({ gateway: { connections: { total: 1 } } });
    const human = await cli(["health"]);
    expect(human.stdout).toMatch(/^status\s+(ok|degraded)/m);
    expect(human.stdout).toMatch(/^connections\s+1 \(1 operators, 0 nodes\)/m);
  });

  it("call prints a method's result, and fails with exit 1 and the gateway's message", async () => {
    const ok = await cli(["call", "system-presence"]);
    expect(ok.code).toBe(0);
    expect(JSON.parse(ok.stdout).some((entry: { mode?: string }) => entry.mode === "gateway")).toBe(true);
    const bad = await cli(["call", "logs.tail", "--params", "{ limit: 'ten' }"]);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/✖ invalid params for logs.tail: params\/limit.*\[INVALID_REQUEST\]/);
    const missingFile = await cli(["call", "health", "--params", "@/nonexistent/params.json"]);
    expect(missingFile.code).toBe(2);
    expect(missingFile.stderr).toMatch(/cannot read the params file \/nonexistent\/params\.json: ENOENT/);
    const unknown = await cli(["call", "no.such"]);
    expect(unknown.stderr).toMatch(/unknown method: no.such/);
  });

  it("events prints live events, filtered", async () => {
    const events = cli(["events", "--filter", "presence", "--count", "1", "--json"]);
    await new Promise((resolve) => setTimeout(resolve, 300));
    await cli(["call", "system-event", "--params", "{ text: 'deploy finished', instanceId: 'ci-1' }"]);
    const result = await events;
    expect(result.code).toBe(0);
    const line = JSON.parse(result.stdout.trim().split("\n")[0]!);
    expect(line.event).toBe("presence");
    expect(line.payload.presence.some((entry: { text?: string }) => entry.text === "deploy finished")).toBe(true);
  });

  it("logs prints the gateway's log lines, readable", async () => {
    const logs = await cli(["logs", "--limit", "20"]);
    expect(logs.code).toBe(0);
    expect(logs.stdout).toMatch(/\d\d:\d\d:\d\d\.\d{3} info {2}gateway listening/);
  });

  it("config get shows the config with the token redacted; patch changes it; path and validate work locally", async () => {
    const got = await cli(["config", "get"]);
    expect(JSON.parse(got.stdout).config.gateway.auth.token).toBe("[redacted]");
    const patched = await cli(["config", "patch", "{ logging: { level: 'debug' } }"]);
    expect(patched.code).toBe(0);
    expect(patched.stdout).toMatch(/✔ config written \(1 change: logging.level\)/);
    expect((await cli(["config", "path"])).stdout.trim()).toBe(join(stateDir, "gateway.json5"));
    expect((await cli(["config", "validate"])).stdout).toMatch(/is valid/);
  });

  it("config replace replaces the file from a file or stdin, and config edit validates what the editor saved", async () => {
    const current = readFileSync(join(stateDir, "gateway.json5"), "utf8");
    const next = join(stateDir, "next.json5");
    writeFileSync(next, current.replace('level: "info"', 'level: "warn"').replace("level: 'debug'", "level: 'warn'"));
    const set = await cli(["config", "replace", next, "--json"]);
    expect(set.code).toBe(0);
    expect(JSON.parse(set.stdout)).toMatchObject({ ok: true });
    const invalid = join(stateDir, "invalid.json5");
    writeFileSync(invalid, "{ gateway: { prot: 1 } }");
    const refused = await cli(["config", "replace", invalid]);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/the new config is invalid/);
    // `config edit` runs $EDITOR on the file, then says whether the gateway will accept it.
    const edited = await cli(["config", "edit"], { EDITOR: "true" });
    expect(edited.code).toBe(0);
    expect(edited.stdout).toMatch(/is valid/);
  });

  it("chats with the (echo) agent through the API, and keeps the transcript", async () => {
    const sent = await cli([
      "call",
      "chat.send",
      "--params",
      "{ sessionKey: 'agent:main:main', message: 'hello agent' }",
    ]);
    expect(sent.code).toBe(0);
    expect(JSON.parse(sent.stdout)).toMatchObject({ status: "started" });
    await new Promise((resolve) => setTimeout(resolve, 200));
    const history = await cli(["call", "chat.history", "--params", "{ sessionKey: 'agent:main:main' }"]);
    const messages = JSON.parse(history.stdout).messages as ChatMessage[];
    expect(messages.map((message) => message.role)).toEqual(["user", "assistant"]);
    expect(chatMessageText(messages[0]!)).toBe("hello agent");
    // The first reply says that no model is configured; the system event queued earlier opens the agent's input.
    expect(chatMessageText(messages[1]!)).toMatch(
      /^\(no model configured — [\s\S]*System: \[[^\]]+\] deploy finished\n\nhello agent$/,
    );
    const agent = await cli(["call", "agent", "--params", "{ message: 'one more' }"]);
    expect(JSON.parse(agent.stdout)).toMatchObject({ status: "ok", summary: "one more" });
  });

  it("chat sends one message and prints the streamed reply; piped chat reads lines until /exit", async () => {
    const one = await cli(["chat", "--session", "agent:main:cli-test", "what", "a", "day"]);
    expect(one.code).toBe(0);
    expect(one.stdout.trim()).toMatch(/what a day$/);
    const interactive = await cli(
      ["chat", "--session", "agent:main:cli-test"],
      {},
      "first line\nsecond line\n/exit\nnever sent\n",
    );
    expect(interactive.code).toBe(0);
    expect(interactive.stdout).toBe("first line\nsecond line\n");
    // Piped input is read quietly (the prompt and its banner are for terminals: see chat-tty.test.ts).
    expect(interactive.stderr).toBe("");
    const shown = await cli(["sessions", "show", "agent:main:cli-test"]);
    expect(shown.stdout).toMatch(/user\s+second line\n.*assistant\s+second line\n$/);
    expect(shown.stdout).not.toMatch(/never sent/);
  });

  it("agent runs a turn and prints the reply; --json gives the result; delivery without channels is refused", async () => {
    const turn = await cli(["agent", "--message", "hello from agent"]);
    expect(turn.code).toBe(0);
    expect(turn.stdout).toMatch(/hello from agent\n$/);
    const json = await cli(["agent", "--message", "as json", "--json"]);
    expect(JSON.parse(json.stdout)).toMatchObject({ status: "ok", summary: expect.stringMatching(/as json$/) });
    const usage = await cli(["agent"]);
    expect(usage.code).toBe(2);
    expect(usage.stderr).toMatch(/--message is required/);
    const deliver = await cli(["agent", "--message", "hi", "--deliver", "--channel", "telegram", "--to", "42"]);
    expect(deliver.code).toBe(1);
    expect(deliver.stderr).toMatch(
      /channel "telegram" is not configured \(no channels are configured: add channels\.telegram/,
    );
  });

  it("sessions list, show and reset", async () => {
    await cli(["chat", "--session", "agent:main:listed", "keep this"]);
    const list = await cli(["sessions", "list"]);
    expect(list.code).toBe(0);
    expect(list.stdout).toMatch(/^SESSION\s+ACTIVE\s+USAGE\s+ORIGIN/);
    expect(list.stdout).toMatch(/agent:main:listed\s+.+ ago\s+\d+ tokens/);
    const json = JSON.parse((await cli(["sessions", "list", "--json"])).stdout);
    expect(json.sessions.map((session: { key: string }) => session.key)).toContain("agent:main:listed");
    const reset = await cli(["sessions", "reset", "agent:main:listed"]);
    expect(reset.stdout).toMatch(
      /✔ agent:main:listed starts over \(new session [0-9a-f-]{36}; the old transcript is kept\)/,
    );
    expect((await cli(["sessions", "show", "agent:main:listed"])).stdout).toBe("agent:main:listed: no messages\n");
    const missing = await cli(["sessions", "show"]);
    expect(missing.code).toBe(2);
  });

  it("cron: add (every, cron with a time zone, at), list, run now, runs, edit, rm", async () => {
    const added = await cli(["cron", "add", "--name", "digest", "--every", "15m", "--message", "anything new?"]);
    expect(added.code).toBe(0);
    expect(added.stdout).toMatch(
      /^✔ added digest \(([0-9a-f-]{36})\) — every 15m, next \d{4}-\d\d-\d\d \d\d:\d\d UTC\n$/,
    );
    const id = /\(([0-9a-f-]{36})\)/.exec(added.stdout)![1]!;
    const standup = await cli([
      "cron",
      "add",
      "--name",
      "stand-up",
      "--cron",
      "0 9 * * 1-5",
      "--tz",
      "Europe/Berlin",
      "--system",
      "stand-up in 5 minutes",
      "--wake",
      "next-heartbeat",
    ]);
    expect(standup.stdout).toMatch(/— cron 0 9 \* \* 1-5 \(Europe\/Berlin\), next \d{4}-\d\d-\d\d 0[78]:00 UTC/);
    const once = await cli([
      "cron",
      "add",
      "--name",
      "once",
      "--at",
      "2030-01-01T09:00:00Z",
      "--system",
      "happy new year",
    ]);
    expect(once.stdout).toMatch(/at 2030-01-01T09:00:00\.000Z, next 2030-01-01 09:00 UTC/);
    const list = await cli(["cron", "list"]);
    expect(list.stdout).toMatch(/^ID\s+NAME\s+SCHEDULE\s+NEXT \(UTC\)\s+LAST/);
    expect(list.stdout).toMatch(new RegExp(`${id.slice(0, 8)}\\s+digest\\s+every 15m`));
    const run = await cli(["cron", "run", id.slice(0, 8)]);
    expect(run.stdout).toMatch(/✔ started \(run [0-9a-f-]{36}\)/);
    let runs = { stdout: "" };
    for (let attempt = 0; attempt < 50 && !/ok/.test(runs.stdout); attempt++) {
      await new Promise((resolve) => setTimeout(resolve, 50));
      runs = await cli(["cron", "runs", id.slice(0, 8)]);
    }
    expect(runs.stdout).toMatch(/digest\s+ok\s+.*anything new\?/);
    const json = JSON.parse((await cli(["cron", "runs", id, "--json"])).stdout);
    expect(json.entries[0]).toMatchObject({ jobId: id, status: "ok", sessionKey: `cron:${id}` });
    const disabled = await cli(["cron", "edit", id.slice(0, 8), "--disable"]);
    expect(disabled.stdout).toMatch(/✔ updated digest — every 15m, disabled/);
    expect((await cli(["cron", "list"])).stdout).not.toMatch(/digest/);
    expect((await cli(["cron", "list", "--all"])).stdout).toMatch(/digest.*disabled/);
    expect((await cli(["cron", "rm", id])).stdout).toBe(`✔ removed ${id}\n`);
    const bad = await cli(["cron", "add", "--name", "x", "--cron", "0 9 * * *", "--tz", "Mars/Base", "--system", "x"]);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/unknown time zone "Mars\/Base"/);
    const usage = await cli(["cron", "add", "--every", "1h", "--system", "x"]);
    expect(usage.code).toBe(2);
    expect(usage.stderr).toMatch(/--name is required/);
    expect(JSON.parse((await cli(["call", "last-heartbeat"])).stdout)).toBeNull();
  });

  it("service install --dry-run shows the unit and the commands without changing anything", async () => {
    const result = await cli(["service", "install", "--dry-run"], { GATEWAY_ENTRY: "/opt/gateway/main.js" });
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/would write .*gateway\.service/);
    expect(result.stdout).toMatch(/ExecStart=\S+ \/opt\/gateway\/main\.js run --state-dir /);
    expect(result.stdout).toMatch(/Restart=on-failure/);
    expect(result.stdout).toMatch(/\$ systemctl --user enable --now gateway\.service/);
    expect(result.stdout).toMatch(/dry run: nothing was changed/);
  });

  it("doctor reports what is fine", async () => {
    const result = await cli(["doctor"]);
    expect(result.stdout).toMatch(/✔ node/);
    expect(result.stdout).toMatch(/✔ config\s+.*is valid/);
    expect(result.stdout).toMatch(
      new RegExp(`✔ gateway\\s+0\\.1\\.0 running \\(pid \\d+\\), answering at 127\\.0\\.0\\.1:${port}`),
    );
    expect(result.code).toBe(0);
  });

  it("explains usage errors with exit code 2", async () => {
    const unknown = await cli(["frobnicate"]);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toMatch(/unknown command "frobnicate"/);
    const badFlag = await cli(["health", "--params", "x"]);
    expect(badFlag.code).toBe(2);
    expect(badFlag.stderr).toMatch(/gateway health does not take --params/);
  });
});

describe("gateway CLI when something is wrong", () => {
  it("says the gateway is unreachable and how to start it (exit 3)", async () => {
    const result = await cli(["health", "--url", "ws://127.0.0.1:9", "--token", "x"]);
    expect(result.code).toBe(3);
    expect(result.stderr).toMatch(/gateway not reachable at ws:\/\/127\.0\.0\.1:9 — start it with `gateway run`/);
  });

  it("says a token is wrong (exit 1)", async () => {
    const result = await cli(["health", "--token", "wrong-token-value"]);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/AUTH_TOKEN_MISMATCH/);
  });

  it("doctor lists findings on a broken config with fixes (exit 1)", async () => {
    const broken = mkdtempSync(join(tmpdir(), "gateway-cli-broken-"));
    try {
      writeFileSync(join(broken, "gateway.json5"), "{ gateway: { prot: 1, auth: { token: 'short-token-1234' } } }");
      chmodSync(broken, 0o755);
      const result = await cli(["doctor", "--state-dir", broken, "--json"]);
      expect(result.code).toBe(1);
      const { findings } = JSON.parse(result.stdout);
      expect(findings).toEqual(
        expect.arrayContaining([
          expect.objectContaining({ check: "state dir", status: "warn", fix: `chmod 700 ${broken}` }),
          expect.objectContaining({
            check: "config",
            status: "fail",
            detail: expect.stringMatching(/did you mean `port`/),
          }),
        ]),
      );
    } finally {
      rmSync(broken, { recursive: true, force: true });
    }
  });

  it("config validate and doctor check the built-in channels' own settings offline, with their paths", async () => {
    const dir = mkdtempSync(join(tmpdir(), "gateway-cli-channels-"));
    try {
      writeFileSync(
        join(dir, "gateway.json5"),
        "{ channels: { telegram: { dmPolicy: 'open', accounts: { work: { botTokn: 'x', mode: 'hook' } } } } }",
      );
      const validate = await cli(["config", "validate", "--state-dir", dir]);
      expect(validate.code).toBe(2);
      expect(validate.stderr).toMatch(/channels\.telegram\.accounts\.work\.botTokn: unknown setting for Telegram/);
      expect(validate.stderr).toMatch(/channels\.telegram\.accounts\.work\.mode: /);
      expect(validate.stderr).toMatch(/channels\.telegram\.accounts\.work\.allowFrom: dmPolicy "open" needs "\*"/);
      const doctor = await cli(["doctor", "--state-dir", dir, "--json"]);
      expect(JSON.parse(doctor.stdout).findings).toEqual(
        expect.arrayContaining([
          expect.objectContaining({ check: "channels", status: "fail", detail: expect.stringMatching(/botTokn/) }),
        ]),
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
