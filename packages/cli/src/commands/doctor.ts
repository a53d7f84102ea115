import { chmodSync, existsSync, mkdirSync, readFileSync, rmSync, statfsSync, statSync } from "node:fs";
import { homedir } from "node:os";
import { join } from "node:path";
import { builtinChannelIssues, fallbackModelFromEnvironment } from "@gateway/gateway/config";
import { formatIssues } from "@gateway/server/config";
import { processAlive, readStateLock, STATE_LOCK_FILE } from "@gateway/state";
import { connectClient } from "../connection.js";
import type { Command, CommandContext } from "../context.js";
import { exposureFindings } from "../exposure-checks.js";
import { readLocalConfig } from "../local-config.js";
import { megabytes, printJson } from "../output.js";
import { pingRedis, portFree, probeModelEndpoint } from "../probes.js";

/** One check: ok, a warning, or a failure, with the fix; `repair` is what `--fix` may do about it. */
interface Finding {
  check: string;
  status: "ok" | "warn" | "fail";
  detail: string;
  fix?: string;
  repair?: () => string;
}

const ok = (check: string, detail: string): Finding => ({ check, status: "ok", detail });

function checkNode(): Finding {
  const [major = 0, minor = 0] = process.versions.node.split(".").map(Number);
  return major > 22 || (major === 22 && minor >= 19)
    ? ok("node", `Node ${process.versions.node}`)
    : {
        check: "node",
        status: "fail",
        detail: `Node ${process.versions.node} is older than 22.19`,
        fix: "nvm install 24, or: npm i --prefix ~/.cache/node24 --no-save node@24",
      };
}

/** The state dir, its private files and free disk. */
function checkFiles(stateDir: string, configPath: string): Finding[] {
  const findings: Finding[] = [];
  if (!existsSync(stateDir)) {
    findings.push({
      check: "state dir",
      status: "warn",
      detail: `${stateDir} does not exist yet`,
      fix: "run `gateway run` once (or gateway doctor --fix creates it)",
      repair: () => {
        mkdirSync(join(stateDir, "logs"), { recursive: true, mode: 0o700 });
        return `created ${stateDir} (mode 700)`;
      },
    });
    return findings;
  }
  const mode = statSync(stateDir).mode & 0o777;
  findings.push(
    mode & 0o077
      ? {
          check: "state dir",
          status: "warn",
          detail: `${stateDir} is readable by others (${mode.toString(8)}); it holds tokens and transcripts`,
          fix: `chmod 700 ${stateDir}`,
          repair: () => {
            chmodSync(stateDir, 0o700);
            return `chmod 700 ${stateDir}`;
          },
        }
      : ok("state dir", `${stateDir} (700)`),
  );
  if (!existsSync(join(stateDir, "logs")))
    findings.push({
      check: "logs dir",
      status: "warn",
      detail: `${join(stateDir, "logs")} is missing`,
      fix: "gateway doctor --fix creates it",
      repair: () => {
        mkdirSync(join(stateDir, "logs"), { recursive: true, mode: 0o700 });
        return `created ${join(stateDir, "logs")}`;
      },
    });
  for (const file of [configPath, `${configPath}.bak`, join(stateDir, ".env")]) {
    if (!existsSync(file)) continue;
    const fileMode = statSync(file).mode & 0o777;
    if (fileMode & 0o077)
      findings.push({
        check: "permissions",
        status: "warn",
        detail: `${file} holds secrets and is readable by others (${fileMode.toString(8)})`,
        fix: `chmod 600 ${file}`,
        repair: () => {
          chmodSync(file, 0o600);
          return `chmod 600 ${file}`;
        },
      });
  }
  try {
    const disk = statfsSync(stateDir);
    const free = disk.bavail * disk.bsize;
    findings.push(
      free < 100 * 1024 * 1024
        ? {
            check: "disk",
            status: "fail",
            detail: `only ${megabytes(free)} free for ${stateDir}`,
            fix: "free some disk: logs and transcripts grow",
          }
        : free < 1024 * 1024 * 1024
          ? {
              check: "disk",
              status: "warn",
              detail: `${megabytes(free)} free for ${stateDir}`,
              fix: "free some disk soon",
            }
          : ok("disk", `${(free / 1024 ** 3).toFixed(1)} GB free`),
    );
  } catch {
    // statfs is not everywhere
  }
  return findings;
}

/** What is really running: the run file (its process alive?), then the gateway's own answer. */
async function checkRunning(
  context: CommandContext,
  config: Record<string, unknown>,
  model: { hasModel?: string },
): Promise<Finding[]> {
  const { stateDir } = context.paths;
  const runFile = join(stateDir, STATE_LOCK_FILE);
  const lock = readStateLock(stateDir);
  const findings: Finding[] = [];
  const configured = ((config.gateway ?? {}) as { port?: number }).port ?? 18789;
  if (existsSync(runFile) && (!lock || !processAlive(lock.pid))) {
    findings.push({
      check: "run file",
      status: "warn",
      detail: `${runFile} is stale (${lock ? `pid ${lock.pid} is gone` : "not a run file"}): a gateway stopped without cleaning up`,
      fix: "gateway doctor --fix removes it (the next start would too)",
      repair: () => {
        rmSync(runFile, { force: true });
        return `removed the stale ${runFile}`;
      },
    });
  }
  try {
    const client = await connectClient(context.global, context.io, context.localConfig);
    try {
      const status = await client.request("status");
      findings.push(
        ok(
          "gateway",
          `${status.version} running (pid ${lock?.pid ?? "?"}), answering at ${status.listen.host}:${status.listen.port}${status.listen.port !== configured ? ` (the config says ${configured}; a flag or GATEWAY_PORT overrides it)` : ""}`,
        ),
      );
      // What the running gateway's agent calls (it may come from its own environment).
      if (!status.warnings.some((line) => line.startsWith("no model configured"))) model.hasModel = "a model";
      const channels = await client.request("channels.status", {}).catch(() => undefined);
      for (const [channel, accounts] of Object.entries(channels?.channelAccounts ?? {}))
        for (const account of accounts) {
          const name = `${channel}:${account.accountId}`;
          if (account.enabled === false) continue;
          findings.push(
            account.running && account.connected !== false
              ? ok("channel", `${name} running${account.connected ? ", connected" : ""}`)
              : {
                  check: "channel",
                  status: "fail",
                  detail: `${name} ${account.running ? "not connected" : "not running"}${account.lastError ? `: ${account.lastError}` : ""}`,
                  fix: "gateway channels status shows more; gateway logs has the details",
                },
          );
        }
      for (const warning of status.warnings.filter((line) => /model error|heartbeat failing/.test(line)))
        findings.push({ check: "agent", status: "warn", detail: warning });
    } finally {
      client.close();
    }
  } catch (error) {
    const port = lock?.url ? Number(new URL(lock.url).port) : configured;
    const free = await portFree("127.0.0.1", port);
    findings.push(
      free
        ? {
            check: "gateway",
            status: "warn",
            detail: `not running (port ${port} is free)`,
            fix: "start it with `gateway run` (or gateway service install)",
          }
        : {
            check: "gateway",
            status: "fail",
            detail: `port ${port} is taken but no gateway answers there: ${(error as Error).message}`,
            fix: "stop what holds the port, or set gateway.port",
          },
    );
  }
  return findings;
}

/** The model the agent would call: a real request to its endpoint. */
async function checkModel(
  config: Record<string, unknown>,
  env: CommandContext["io"]["env"],
  running?: { hasModel?: string },
): Promise<Finding> {
  const agents = (config.agents ?? {}) as { defaults?: { model?: string; backend?: string } };
  const providers = (
    (config.models ?? {}) as { providers?: Record<string, { baseUrl: string; apiKey?: string; api?: string }> }
  ).providers;
  const backend = agents.defaults?.backend ?? "auto";
  if (backend === "echo" || backend === "cli") return ok("model", `backend ${backend}: no model endpoint to check`);
  let target: { name: string; baseUrl: string; apiKey?: string; api?: string; model: string } | undefined;
  const wanted = agents.defaults?.model;
  if (wanted) {
    const [name = "", ...rest] = wanted.split("/");
    const provider = providers?.[name];
    if (provider) target = { name, ...provider, model: rest.join("/") };
  } else {
    const fallback = fallbackModelFromEnvironment(env);
    if (fallback)
      target = {
        name: "openai (environment)",
        baseUrl: fallback.provider.baseUrl,
        ...(fallback.provider.apiKey ? { apiKey: fallback.provider.apiKey } : {}),
        model: fallback.model,
      };
  }
  if (!target)
    return {
      check: "model",
      status: "warn",
      detail: "none configured: the echo agent answers",
      fix: "set models.providers and agents.defaults.model (docs/configuration.md)",
    };
  if (target.api && target.api !== "openai-completions" && target.api !== "openai-responses")
    return ok("model", `${target.name}/${target.model} (${target.api}): not probed`);
  const probe = await probeModelEndpoint(target);
  return probe.ok
    ? ok("model", `${target.name}/${target.model}: ${probe.detail}`)
    : {
        check: "model",
        status: "fail",
        detail: `${target.name}/${target.model}: ${probe.detail}`,
        fix: /:11434\b/.test(target.baseUrl)
          ? "start Ollama (ollama serve) and pull the model (ollama pull …)"
          : `start the model server, or fix models.providers.${target.name}`,
      };
}

/** The service unit, when one is installed. */
function checkService(): Finding | undefined {
  const unit =
    process.platform === "darwin"
      ? join(homedir(), "Library", "LaunchAgents", "dev.gateway.plist")
      : join(homedir(), ".config", "systemd", "user", "gateway.service");
  if (!existsSync(unit)) return ok("service", "not installed (gateway service install runs it at boot)");
  const text = readFileSync(unit, "utf8");
  const entry = /(\S+main\.js)/.exec(text)?.[1];
  if (entry && !existsSync(entry))
    return {
      check: "service",
      status: "fail",
      detail: `${unit} runs ${entry}, which no longer exists`,
      fix: "gateway service install (again, from where the gateway is now)",
    };
  return ok("service", `installed: ${unit}`);
}

export const doctorCommand: Command = {
  name: "doctor",
  summary:
    "check the installation and what it points at, and say how to fix what is wrong (--fix repairs the safe part)",
  usage: "gateway doctor [--fix] [--json]",
  options: {
    fix: { value: false, description: "repair what is safe to repair (permissions, missing dirs, a stale run file)" },
  },
  async run(context) {
    const { stateDir, configPath } = context.paths;
    const findings: Finding[] = [checkNode(), ...checkFiles(stateDir, configPath)];
    const local = readLocalConfig(context.paths, context.io.env);
    findings.push(
      local.problems.length === 0
        ? ok("config", local.exists ? `${configPath} is valid` : "no config file: defaults apply")
        : {
            check: "config",
            status: "fail",
            detail: `${local.problems.length} problem(s) in ${configPath}:\n${formatIssues(local.problems)}`,
            fix: "fix the lines above (gateway config validate shows them again); a running gateway keeps its last good config",
          },
    );
    const config = local.config;
    const channelIssues = builtinChannelIssues(config as { channels?: Record<string, unknown> });
    if (channelIssues.length > 0)
      findings.push({
        check: "channels",
        status: "fail",
        detail: channelIssues.join("\n"),
        fix: "fix these settings (docs/channels.md); the running gateway keeps such a channel off",
      });
    const auth = ((config.gateway ?? {}) as { auth?: { mode?: string; token?: unknown } }).auth;
    const token = typeof auth?.token === "string" ? auth.token : "";
    if ((auth?.mode ?? "token") === "token")
      findings.push(
        token.length >= 32
          ? ok("token", `${token.length} characters`)
          : {
              check: "token",
              status: token ? "warn" : "fail",
              detail: token ? `only ${token.length} characters` : "no token set",
              fix: "set gateway.auth.token to a long random string (openssl rand -base64 32)",
            },
      );
    const runningModel: { hasModel?: string } = {};
    findings.push(...exposureFindings(config));
    findings.push(...(await checkRunning(context, config, runningModel)));
    const redisUrl = ((config.redis ?? {}) as { url?: string }).url;
    if (redisUrl) {
      const redis = await pingRedis(redisUrl);
      findings.push(
        redis.ok
          ? ok("redis", `${redisUrl} ${redis.detail}`)
          : {
              check: "redis",
              status: "fail",
              detail: `${redisUrl} is set but ${redis.detail}`,
              fix: "start Redis, or fix redis.url / GATEWAY_REDIS_URL (events wait in Redis until it answers)",
            },
      );
    } else findings.push(ok("redis", "not configured (the embedded defaults need none)"));
    findings.push(await checkModel(config, context.io.env, runningModel));
    const service = checkService();
    if (service) findings.push(service);

    const repaired: string[] = [];
    if (context.flags.fix === true)
      for (const finding of findings)
        if (finding.repair) {
          try {
            repaired.push(finding.repair());
            finding.status = "ok";
            finding.detail = `fixed: ${finding.detail}`;
            delete finding.fix;
          } catch (error) {
            finding.detail += ` (could not fix: ${(error as Error).message})`;
          }
        }

    if (context.global.json)
      printJson(context.io, { findings: findings.map(({ repair: _repair, ...rest }) => rest), repaired });
    else {
      for (const finding of findings) {
        const mark = finding.status === "ok" ? "✔" : finding.status === "warn" ? "!" : "✖";
        context.io.stdout(`${mark} ${finding.check.padEnd(12)} ${finding.detail}\n`);
        if (finding.fix)
          context.io.stdout(`  ${"".padEnd(12)} → ${finding.fix}${finding.repair ? " (gateway doctor --fix)" : ""}\n`);
      }
      if (repaired.length > 0) context.io.stdout(`\nchanged:\n${repaired.map((line) => `  - ${line}`).join("\n")}\n`);
    }
    return findings.some((finding) => finding.status === "fail") ? 1 : 0;
  },
};
