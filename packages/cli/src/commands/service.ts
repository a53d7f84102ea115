import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { homedir } from "node:os";
import { dirname, join } from "node:path";
import { ENVIRONMENT_OVERRIDES } from "@gateway/gateway/config";
import { CliError, type Command, type CommandContext, ExitCode } from "../context.js";
import { didYouMean } from "../suggest.js";

const LABEL = "dev.gateway";
const ACTIONS = ["install", "uninstall", "status", "logs"];
const USAGE = "gateway service install [--linger] | uninstall | status | logs [--follow]  [--dry-run]";

/** What a service needs from the environment it is installed from: a service starts with almost none. */
const PASSED_VARIABLES = [
  "OPENAI_API_KEY",
  "OPENAI_BASE_URL",
  "GATEWAY_MODEL",
  ...ENVIRONMENT_OVERRIDES.map((override) => override.variable),
];

/** `${VAR}` references in the config text (not `$${VAR}`, the escape for a literal). */
export function referencedVariables(configText: string): string[] {
  return [...configText.matchAll(/(?<!\$)\$\{([A-Za-z_][A-Za-z0-9_]*)\}/g)].map((match) => match[1]!);
}

/** `KEY="value"` lines both systemd's EnvironmentFile and Node's --env-file read. */
export function environmentFileText(values: Record<string, string>): string {
  const lines = Object.entries(values).map(
    ([key, value]) => `${key}="${value.replace(/\\/g, "\\\\").replace(/"/g, '\\"').replace(/\n/g, "\\n")}"`,
  );
  return `# Written by \`gateway service install\` (mode 0600): the secrets and settings the service needs.\n${lines.join("\n")}\n`;
}

interface Unit {
  path: string;
  text: string;
  install: string[][];
  uninstall: string[][];
  status: string[];
  logs: (follow: boolean) => string[];
}

function unitFor(platform: string, home: string, stateDir: string, entry: string, envFile: string): Unit {
  if (platform === "darwin") {
    const path = join(home, "Library", "LaunchAgents", `${LABEL}.plist`);
    // launchd has no environment file: Node reads it (--env-file), so the plist holds no secret.
    const command = [process.execPath, `--env-file=${envFile}`, entry, "run", "--state-dir", stateDir];
    const xml = (text: string) => text.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
    const args = command.map((part) => `    <string>${xml(part)}</string>`).join("\n");
    const out = join(stateDir, "logs", "service.out.log");
    const err = join(stateDir, "logs", "service.err.log");
    return {
      path,
      text: `<?xml version="1.0" encoding="UTF-8"?>
<!DOCTYPE plist PUBLIC "-//Apple//DTD PLIST 1.0//EN" "http://www.apple.com/DTDs/PropertyList-1.0.dtd">
<plist version="1.0">
<dict>
  <key>Label</key><string>${LABEL}</string>
  <key>ProgramArguments</key>
  <array>
${args}
  </array>
  <key>RunAtLoad</key><true/>
  <key>KeepAlive</key><dict><key>SuccessfulExit</key><false/></dict>
  <key>ExitTimeOut</key><integer>40</integer>
  <key>StandardOutPath</key><string>${xml(out)}</string>
  <key>StandardErrorPath</key><string>${xml(err)}</string>
</dict>
</plist>
`,
      install: [["launchctl", "load", "-w", path]],
      uninstall: [["launchctl", "unload", "-w", path]],
      status: ["launchctl", "list", LABEL],
      logs: (follow) => ["tail", ...(follow ? ["-f"] : []), "-n", "100", out, err],
    };
  }
  const path = join(home, ".config", "systemd", "user", "gateway.service");
  const command = [process.execPath, entry, "run", "--state-dir", stateDir];
  return {
    path,
    text: `[Unit]
Description=Gateway — the control plane of your personal AI agent
After=network-online.target

[Service]
ExecStart=${command.map((part) => (/\s/.test(part) ? `"${part}"` : part)).join(" ")}
# Secrets and settings from the shell it was installed from (mode 0600); edit it, then: systemctl --user restart gateway
EnvironmentFile=-${envFile}
Restart=on-failure
RestartSec=2
# SIGTERM lets in-flight requests finish and tells clients to reconnect.
KillSignal=SIGTERM
TimeoutStopSec=40

[Install]
WantedBy=default.target
`,
    install: [
      ["systemctl", "--user", "daemon-reload"],
      ["systemctl", "--user", "enable", "--now", "gateway.service"],
    ],
    uninstall: [
      ["systemctl", "--user", "disable", "--now", "gateway.service"],
      ["systemctl", "--user", "daemon-reload"],
    ],
    status: ["systemctl", "--user", "status", "gateway.service", "--no-pager"],
    logs: (follow) => [
      "journalctl",
      "--user",
      "-u",
      "gateway.service",
      "-n",
      "100",
      "--no-pager",
      ...(follow ? ["-f"] : []),
    ],
  };
}

/** The variables to hand to the service, and the `${VAR}`s of the config that are not set here. */
function environmentFor(context: CommandContext): { values: Record<string, string>; missing: string[] } {
  const { configPath } = context.paths;
  const referenced = existsSync(configPath) ? referencedVariables(readFileSync(configPath, "utf8")) : [];
  const values: Record<string, string> = {};
  const missing: string[] = [];
  for (const name of new Set([...PASSED_VARIABLES, ...referenced])) {
    const value = context.io.env[name];
    if (value) values[name] = value;
    else if (referenced.includes(name)) missing.push(name);
  }
  return { values, missing };
}

/** Whether systemd keeps this user's services running after logout (`loginctl … Linger`). */
function lingering(user: string): boolean | undefined {
  const result = spawnSync("loginctl", ["show-user", user, "--property=Linger"], { encoding: "utf8" });
  if (result.error || result.status !== 0) return undefined;
  return /Linger=yes/.test(result.stdout);
}

export const serviceCommand: Command = {
  name: "service",
  summary: "run the gateway as a systemd user service or a launchd agent: install, status, logs, uninstall",
  usage: USAGE,
  options: {
    "dry-run": { value: false, description: "show what would be written and run" },
    linger: { value: false, description: "install: keep it running after you log out (loginctl enable-linger)" },
    follow: { value: false, description: "logs: keep printing" },
    platform: { value: true, description: "linux or darwin (default: this machine's)" },
  },
  async run(context) {
    const { args, flags, io, paths } = context;
    const action = args[0];
    if (!action || !ACTIONS.includes(action))
      throw new CliError(
        `unknown service action "${action ?? ""}"${action ? didYouMean(action, ACTIONS) : ""}: ${USAGE}`,
        ExitCode.usage,
      );
    const platform = typeof flags.platform === "string" ? flags.platform : process.platform;
    const home = io.env.HOME || homedir();
    const entry = io.env.GATEWAY_ENTRY ?? process.argv[1] ?? "gateway";
    const envFile = join(paths.stateDir, "service.env");
    const unit = unitFor(platform, home, paths.stateDir, entry, envFile);
    const dryRun = flags["dry-run"] === true;
    const runAll = (commands: string[][], options: { tolerate?: boolean } = {}) => {
      for (const command of commands) {
        io.stdout(`$ ${command.join(" ")}\n`);
        if (dryRun) continue;
        const result = spawnSync(command[0]!, command.slice(1), { stdio: "inherit" });
        if (result.error) throw new CliError(`${command[0]} is not available here: ${result.error.message}`);
        if (result.status !== 0 && !options.tolerate)
          throw new CliError(`${command.join(" ")} exited with ${result.status}`);
      }
    };
    switch (action) {
      case "install": {
        const { values, missing } = environmentFor(context);
        io.stdout(`${dryRun ? "would write" : "writing"} ${unit.path}:\n\n${unit.text}\n`);
        io.stdout(
          `${dryRun ? "would write" : "writing"} ${envFile} (mode 0600): ${Object.keys(values).join(", ") || "no variables"}\n`,
        );
        for (const name of missing)
          io.stderr(
            `! the config uses \${${name}} but ${name} is not set in this shell: add ${name}="…" to ${envFile}, or the gateway will not start\n`,
          );
        if (!dryRun) {
          mkdirSync(dirname(unit.path), { recursive: true });
          mkdirSync(join(paths.stateDir, "logs"), { recursive: true, mode: 0o700 });
          writeFileSync(envFile, environmentFileText(values), { mode: 0o600 });
          writeFileSync(unit.path, unit.text, { mode: 0o600 });
        }
        runAll(unit.install);
        if (platform !== "darwin") {
          const user = io.env.USER || io.env.LOGNAME || "";
          const linger = user ? lingering(user) : undefined;
          if (flags.linger === true) runAll([["loginctl", "enable-linger", user]]);
          else if (linger !== true)
            io.stdout(
              `\nnote: systemd stops user services when you log out${linger === undefined ? " (lingering could not be checked)" : ""}. To keep the gateway running:\n  loginctl enable-linger ${user || "$USER"}\n(or install with --linger)\n`,
            );
        }
        io.stdout(
          dryRun
            ? "(dry run: nothing was changed)\n"
            : "✔ installed: the gateway starts now and at every login, and restarts on failure (gateway service status)\n",
        );
        return 0;
      }
      case "uninstall":
        if (!existsSync(unit.path) && !dryRun) {
          io.stdout(`not installed (${unit.path} does not exist)\n`);
          return 0;
        }
        runAll(unit.uninstall, { tolerate: true });
        io.stdout(`${dryRun ? "would remove" : "removing"} ${unit.path} and ${envFile}\n`);
        if (!dryRun) {
          rmSync(unit.path, { force: true });
          rmSync(envFile, { force: true });
        }
        return 0;
      case "status":
        if (!existsSync(unit.path)) {
          io.stdout(`not installed (${unit.path} does not exist): gateway service install\n`);
          return 0;
        }
        io.stdout(`installed: ${unit.path}\n`);
        runAll([unit.status], { tolerate: true });
        return 0;
      default:
        if (!existsSync(unit.path)) {
          io.stdout(`not installed (${unit.path} does not exist): gateway logs reads the gateway's own log\n`);
          return 0;
        }
        runAll([unit.logs(flags.follow === true)], { tolerate: true });
        return 0;
    }
  },
};
