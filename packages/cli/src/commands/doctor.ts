import { existsSync, statSync } from "node:fs";
import { createServer } from "node:net";
import { builtinChannelIssues, loadGatewayConfig } from "@gateway/gateway/config";
import { ConfigError, formatIssues } from "@gateway/server/config";
import { connectClient } from "../connection.js";
import type { Command } from "../context.js";
import { printJson } from "../output.js";

/** One check: ok, a warning, or a failure, with the fix. */
interface Finding {
  check: string;
  status: "ok" | "warn" | "fail";
  detail: string;
  fix?: string;
}

function portFree(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const probe = createServer();
    probe.once("error", () => resolve(false));
    probe.listen(port, host, () => probe.close(() => resolve(true)));
  });
}

export const doctorCommand: Command = {
  name: "doctor",
  summary: "check the installation and say how to fix what is wrong",
  usage: "gateway doctor [--json]",
  async run(context) {
    const findings: Finding[] = [];
    const { stateDir, configPath } = context.paths;

    const [major, minor] = process.versions.node.split(".").map(Number) as [number, number];
    findings.push(
      major > 22 || (major === 22 && minor >= 19)
        ? { check: "node", status: "ok", detail: `Node ${process.versions.node}` }
        : {
            check: "node",
            status: "fail",
            detail: `Node ${process.versions.node} is older than 22.19`,
            fix: "install Node 24 (npm i --prefix ~/.cache/node24 --no-save node@24)",
          },
    );

    if (!existsSync(stateDir)) {
      findings.push({
        check: "state dir",
        status: "warn",
        detail: `${stateDir} does not exist yet`,
        fix: "run `gateway run` once",
      });
    } else {
      const mode = statSync(stateDir).mode & 0o777;
      findings.push(
        mode & 0o077
          ? {
              check: "state dir",
              status: "warn",
              detail: `${stateDir} is readable by others (${mode.toString(8)})`,
              fix: `chmod 700 ${stateDir}`,
            }
          : { check: "state dir", status: "ok", detail: `${stateDir} (700)` },
      );
    }

    let config: Record<string, unknown> | undefined;
    try {
      const loaded = loadGatewayConfig({ configPath, stateDir, env: context.io.env });
      config = loaded.config;
      findings.push({
        check: "config",
        status: "ok",
        detail: loaded.exists ? `${configPath} is valid` : "no config file: defaults apply",
      });
      if (loaded.exists && statSync(configPath).mode & 0o077) {
        findings.push({
          check: "config permissions",
          status: "warn",
          detail: `${configPath} holds secrets and is readable by others`,
          fix: `chmod 600 ${configPath}`,
        });
      }
    } catch (error) {
      if (!(error instanceof ConfigError)) throw error;
      findings.push({
        check: "config",
        status: "fail",
        detail: `${error.issues.length} problem(s) in ${configPath}:\n${formatIssues(error.issues)}`,
        fix: "fix the lines above (gateway config validate shows them again)",
      });
    }

    if (config) {
      const channelIssues = builtinChannelIssues(config as { channels?: Record<string, unknown> });
      if (channelIssues.length > 0)
        findings.push({
          check: "channels",
          status: "fail",
          detail: channelIssues.join("\n"),
          fix: "fix these settings (docs/channels.md); the running gateway keeps such a channel off",
        });
      const gateway = (config.gateway ?? {}) as { port?: number; auth?: { mode?: string; token?: string } };
      const token = gateway.auth?.token ?? "";
      if ((gateway.auth?.mode ?? "token") === "token") {
        findings.push(
          token.length >= 32
            ? { check: "token", status: "ok", detail: `${token.length} characters` }
            : {
                check: "token",
                status: token ? "warn" : "fail",
                detail: token ? `only ${token.length} characters` : "no token set",
                fix: "set gateway.auth.token to a long random string (openssl rand -base64 32)",
              },
        );
      }
      const port = gateway.port ?? 18789;
      try {
        const client = await connectClient(context.global, context.io);
        client.close();
        findings.push({ check: "gateway", status: "ok", detail: `running and answering on port ${port}` });
      } catch (error) {
        const free = await portFree("127.0.0.1", port);
        findings.push(
          free
            ? {
                check: "gateway",
                status: "warn",
                detail: `not running (port ${port} is free)`,
                fix: "start it with `gateway run`",
              }
            : {
                check: "gateway",
                status: "fail",
                detail: `port ${port} is taken but no gateway answers: ${(error as Error).message}`,
                fix: "stop what holds the port or set gateway.port",
              },
        );
      }
      findings.push({ check: "redis", status: "ok", detail: "not configured (the embedded defaults need none)" });
    }

    if (context.global.json) printJson(context.io, { findings });
    else {
      for (const finding of findings) {
        const mark = finding.status === "ok" ? "✔" : finding.status === "warn" ? "!" : "✖";
        context.io.stdout(`${mark} ${finding.check.padEnd(18)} ${finding.detail}\n`);
        if (finding.fix) context.io.stdout(`  ${"".padEnd(18)} → ${finding.fix}\n`);
      }
    }
    return findings.some((finding) => finding.status === "fail") ? 1 : 0;
  },
};
