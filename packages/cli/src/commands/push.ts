import { loadGatewayConfig } from "@gateway/gateway/config";
import { CliError, type Command, ExitCode } from "../context.js";
import { printJson } from "../output.js";

const USAGE = "gateway push <type> [--source <name>] [--payload '<json>'] [--session <id>] [--redis <url>]";

export const pushCommand: Command = {
  name: "push",
  summary: "push a background event into the agent's session through Redis",
  usage: USAGE,
  options: {
    source: { value: true, description: "who sends it (default: cli)" },
    payload: { value: true, description: "a JSON object with the details" },
    session: { value: true, description: "also deliver to this live session (satellite)" },
    redis: { value: true, description: "the Redis URL (env GATEWAY_REDIS_URL; default redis.url of the local config)" },
  },
  async run({ args, flags, global, io, paths }) {
    const type = args[0];
    if (!type) throw new CliError(`which event? ${USAGE}`, ExitCode.usage);
    let payload: Record<string, unknown> = {};
    if (typeof flags.payload === "string") {
      try {
        payload = JSON.parse(flags.payload) as Record<string, unknown>;
      } catch (error) {
        throw new CliError(`--payload is not JSON: ${(error as Error).message}`, ExitCode.usage);
      }
      if (typeof payload !== "object" || payload === null || Array.isArray(payload))
        throw new CliError("--payload must be a JSON object", ExitCode.usage);
    }
    const configured = configuredRedis(paths.configPath, paths.stateDir, io.env);
    const url =
      (typeof flags.redis === "string" ? flags.redis : undefined) ?? io.env.GATEWAY_REDIS_URL ?? configured.url;
    if (!url)
      throw new CliError(
        "no Redis configured: pass --redis redis://127.0.0.1:6379, set GATEWAY_REDIS_URL, or set redis.url in the config",
        ExitCode.usage,
      );
    // Loaded here, so the other commands never load a Redis client.
    const [{ Redis }, { pushEvent }] = await Promise.all([import("ioredis"), import("@gateway/redis-bridge/push")]);
    const redis = new Redis(url, {
      lazyConnect: true,
      maxRetriesPerRequest: 1,
      connectTimeout: global.timeoutMs,
      retryStrategy: () => null,
    });
    redis.on("error", () => {});
    try {
      await redis.connect();
      const result = await pushEvent(
        redis,
        type,
        typeof flags.source === "string" ? flags.source : "cli",
        payload,
        typeof flags.session === "string" ? flags.session : undefined,
        configured.keyPrefix ? { keyPrefix: configured.keyPrefix } : {},
      );
      if (global.json) printJson(io, result);
      else io.stdout(`✔ pushed ${type} (${result.event.id}) to ${result.sessions.join(", ")}\n`);
      return ExitCode.ok;
    } catch (error) {
      throw new CliError(`cannot push to Redis at ${url}: ${(error as Error).message}`, ExitCode.unreachable);
    } finally {
      redis.disconnect();
    }
  },
};

/** `redis.url` and `redis.keyPrefix` of the local config, where it has them. */
function configuredRedis(
  configPath: string,
  stateDir: string,
  env: Readonly<Record<string, string | undefined>>,
): { url?: string; keyPrefix?: string } {
  try {
    const { config } = loadGatewayConfig({ configPath, stateDir, env });
    return (config as { redis?: { url?: string; keyPrefix?: string } }).redis ?? {};
  } catch {
    return {};
  }
}
