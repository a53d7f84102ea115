import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, rmSync, writeFileSync } from "node:fs";
import { homedir } from "node:os";
import { dirname, join } from "node:path";
import { CliError, type Command, ExitCode } from "../context.js";

const LABEL = "dev.gateway";

function unitFor(platform: NodeJS.Platform, stateDir: string, entry: string) {
  const command = [process.execPath, entry, "run", "--state-dir", stateDir];
  if (platform === "darwin") {
    const path = join(homedir(), "Library", "LaunchAgents", `${LABEL}.plist`);
    const args = command.map((part) => `    <string>${part}</string>`).join("\n");
    const text = `<?xml version="1.0" encoding="UTF-8"?>
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
  <key>StandardOutPath</key><string>${join(stateDir, "logs", "service.out.log")}</string>
  <key>StandardErrorPath</key><string>${join(stateDir, "logs", "service.err.log")}</string>
</dict>
</plist>
`;
    return {
      path,
      text,
      install: [["launchctl", "load", "-w", path]],
      uninstall: [["launchctl", "unload", "-w", path]],
      status: ["launchctl", "list", LABEL],
    };
  }
  const path = join(homedir(), ".config", "systemd", "user", "gateway.service");
  const text = `[Unit]
Description=Gateway — the control plane of your personal AI agent
After=network-online.target

[Service]
ExecStart=${command.map((part) => (/\s/.test(part) ? `"${part}"` : part)).join(" ")}
Restart=on-failure
RestartSec=2
# SIGTERM lets in-flight requests finish and tells clients to reconnect.
KillSignal=SIGTERM
TimeoutStopSec=40

[Install]
WantedBy=default.target
`;
  return {
    path,
    text,
    install: [
      ["systemctl", "--user", "daemon-reload"],
      ["systemctl", "--user", "enable", "--now", "gateway.service"],
    ],
    uninstall: [
      ["systemctl", "--user", "disable", "--now", "gateway.service"],
      ["systemctl", "--user", "daemon-reload"],
    ],
    status: ["systemctl", "--user", "status", "gateway.service", "--no-pager"],
  };
}

export const serviceCommand: Command = {
  name: "service",
  summary: "run the gateway as a systemd user service or a launchd agent",
  usage: "gateway service install|uninstall|status [--dry-run]",
  options: { "dry-run": { value: false, description: "show what would be written and run" } },
  async run({ args, flags, io, paths }) {
    const action = args[0];
    const entry = io.env.GATEWAY_ENTRY ?? process.argv[1] ?? "gateway";
    const unit = unitFor(process.platform, paths.stateDir, entry);
    const dryRun = flags["dry-run"] === true;
    const runAll = (commands: string[][]) => {
      for (const command of commands) {
        io.stdout(`$ ${command.join(" ")}\n`);
        if (dryRun) continue;
        const result = spawnSync(command[0]!, command.slice(1), { stdio: "inherit" });
        if (result.error) throw new CliError(`${command[0]} is not available here: ${result.error.message}`);
        if (result.status !== 0) throw new CliError(`${command.join(" ")} exited with ${result.status}`);
      }
    };
    switch (action) {
      case "install":
        io.stdout(`${dryRun ? "would write" : "writing"} ${unit.path}:\n\n${unit.text}\n`);
        if (!dryRun) {
          mkdirSync(dirname(unit.path), { recursive: true });
          writeFileSync(unit.path, unit.text);
        }
        runAll(unit.install);
        io.stdout(
          dryRun
            ? "(dry run: nothing was changed)\n"
            : "✔ installed: the gateway starts now and at every login, and restarts on failure\n",
        );
        return 0;
      case "uninstall":
        if (!existsSync(unit.path) && !dryRun) {
          io.stdout(`not installed (${unit.path} does not exist)\n`);
          return 0;
        }
        runAll(unit.uninstall);
        io.stdout(`${dryRun ? "would remove" : "removing"} ${unit.path}\n`);
        if (!dryRun) rmSync(unit.path, { force: true });
        return 0;
      case "status":
        if (!existsSync(unit.path)) {
          io.stdout(`not installed (${unit.path} does not exist): gateway service install\n`);
          return 0;
        }
        io.stdout(`installed: ${unit.path}\n`);
        runAll([unit.status]);
        return 0;
      default:
        throw new CliError(`unknown service action "${action ?? ""}": ${serviceCommand.usage}`, ExitCode.usage);
    }
  },
};
