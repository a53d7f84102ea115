// `gateway service` through the real binary, with systemctl/loginctl/journalctl replaced by scripts that record how
// they were called (no systemd in a test): the unit, the 0600 environment file with the secrets, lingering, status,
// logs and uninstall; and the launchd plist as text.
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
// @ts-expect-error -- a plain .mjs helper of the private vitest preset
import { runProcess } from "@gateway/vitest-preset/run-process";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

const main = join(dirname(fileURLToPath(import.meta.url)), "..", "dist", "main.js");
let root = "";
let home = "";
let stateDir = "";
let bin = "";
const calls = () => (existsSync(join(root, "calls.log")) ? readFileSync(join(root, "calls.log"), "utf8") : "");

function fakeCommand(name: string, output = "") {
  const path = join(bin, name);
  writeFileSync(path, `#!/bin/sh\necho "${name} $*" >> "${join(root, "calls.log")}"\nprintf '%s' "${output}"\n`);
  chmodSync(path, 0o755);
}

function service(args: string[], env: Record<string, string> = {}) {
  return runProcess(process.execPath, [main, "service", ...args, "--state-dir", stateDir], {
    env: {
      HOME: home,
      USER: "ada",
      PATH: `${bin}:${process.env.PATH}`,
      GATEWAY_ENTRY: "/opt/gateway/main.js",
      GATEWAY_TOKEN: "",
      OPENAI_API_KEY: "",
      ...env,
    },
  }) as Promise<{ code: number; stdout: string; stderr: string }>;
}

beforeAll(() => {
  root = mkdtempSync(join(tmpdir(), "gateway-service-"));
  home = join(root, "home");
  stateDir = join(root, "state");
  bin = join(root, "bin");
  for (const dir of [home, stateDir, bin]) mkdirSync(dir, { recursive: true });
  writeFileSync(
    join(stateDir, "gateway.json5"),
    `{ gateway: { auth: { token: "${"s".repeat(40)}" } },
       channels: { telegram: { botToken: "\${TELEGRAM_BOT_TOKEN}" } },
       models: { providers: { openai: { baseUrl: "https://api.openai.com/v1", apiKey: "\${OPENAI_API_KEY}", models: [{ id: "gpt-4o-mini" }] } } },
       // $\${NOT_A_VARIABLE} is a literal
     }`,
  );
  fakeCommand("systemctl");
  fakeCommand("journalctl", "a journal line");
  fakeCommand("loginctl", "Linger=no");
});
afterAll(() => rmSync(root, { recursive: true, force: true }));

describe("gateway service (systemd user unit)", () => {
  it("install writes the unit and a 0600 environment file with the secrets, and tells about lingering", async () => {
    const result = await service(["install"], { OPENAI_API_KEY: "sk-test-123", TELEGRAM_BOT_TOKEN: '123:abc"x' });
    expect(result.code, result.stderr).toBe(0);
    const unitPath = join(home, ".config", "systemd", "user", "gateway.service");
    const unit = readFileSync(unitPath, "utf8");
    expect(unit).toMatch(/ExecStart=\S+ \/opt\/gateway\/main\.js run --state-dir /);
    expect(unit).toContain(`EnvironmentFile=-${join(stateDir, "service.env")}`);
    expect(unit).not.toContain("sk-test-123");
    const envFile = join(stateDir, "service.env");
    expect(statSync(envFile).mode & 0o777).toBe(0o600);
    const environment = readFileSync(envFile, "utf8");
    expect(environment).toContain('OPENAI_API_KEY="sk-test-123"');
    expect(environment).toContain('TELEGRAM_BOT_TOKEN="123:abc\\"x"');
    expect(environment).not.toContain("NOT_A_VARIABLE");
    expect(calls()).toMatch(/systemctl --user daemon-reload\nsystemctl --user enable --now gateway\.service\n/);
    expect(calls()).toMatch(/loginctl show-user ada --property=Linger/);
    expect(result.stdout).toMatch(/systemd stops user services when you log out[\s\S]*loginctl enable-linger ada/);
  });

  it("says which ${VAR} of the config is not set, and --linger enables lingering", async () => {
    const result = await service(["install", "--linger"], { OPENAI_API_KEY: "sk-test-123" });
    expect(result.code).toBe(0);
    expect(result.stderr).toMatch(/the config uses \$\{TELEGRAM_BOT_TOKEN\} but TELEGRAM_BOT_TOKEN is not set/);
    expect(calls()).toMatch(/loginctl enable-linger ada\n/);
    expect(result.stdout).not.toMatch(/stops user services when you log out/);
  });

  it("status, logs and uninstall", async () => {
    const status = await service(["status"]);
    expect(status.stdout).toMatch(/installed: .*gateway\.service/);
    expect(calls()).toMatch(/systemctl --user status gateway\.service --no-pager/);
    const logs = await service(["logs"]);
    expect(logs.stdout).toContain("a journal line");
    expect(calls()).toMatch(/journalctl --user -u gateway\.service -n 100 --no-pager\n/);
    const removed = await service(["uninstall"]);
    expect(removed.code).toBe(0);
    expect(calls()).toMatch(/systemctl --user disable --now gateway\.service/);
    expect(existsSync(join(home, ".config", "systemd", "user", "gateway.service"))).toBe(false);
    expect(existsSync(join(stateDir, "service.env"))).toBe(false);
    expect((await service(["status"])).stdout).toMatch(/not installed/);
    const typo = await service(["statsu"]);
    expect(typo.stderr).toMatch(/did you mean "status"/);
  });
});

describe("gateway service on macOS (launchd)", () => {
  it("the plist runs node with the environment file, logs into the state dir, and holds no secret", async () => {
    const result = await service(["install", "--platform", "darwin", "--dry-run"], { OPENAI_API_KEY: "sk-mac" });
    expect(result.code).toBe(0);
    const plist = result.stdout.slice(result.stdout.indexOf("<?xml"), result.stdout.indexOf("</plist>") + 8);
    expect(plist).toContain("<key>Label</key><string>dev.gateway</string>");
    expect(plist).toMatch(
      /<string>--env-file=.*service\.env<\/string>\n\s+<string>\/opt\/gateway\/main\.js<\/string>\n\s+<string>run<\/string>/,
    );
    expect(plist).toMatch(/<key>KeepAlive<\/key><dict><key>SuccessfulExit<\/key><false\/><\/dict>/);
    expect(plist).toMatch(/<key>StandardErrorPath<\/key><string>.*logs\/service\.err\.log<\/string>/);
    expect(plist).not.toContain("sk-mac");
    expect(result.stdout).toMatch(/\$ launchctl load -w .*Library\/LaunchAgents\/dev\.gateway\.plist/);
    expect(result.stdout).not.toMatch(/loginctl/);
    expect(result.stdout).toMatch(/dry run: nothing was changed/);
  });
});
