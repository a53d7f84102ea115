// @gateway/pi-extension — background events from Redis in an interactive pi session (seed 000, tiers 1–3).
import { hostname } from "node:os";
import type { ExtensionAPI, ExtensionContext, ExtensionFactory } from "@earendil-works/pi-coding-agent";
import {
  type BridgeEvent,
  CENTRAL_ALIASES,
  CENTRAL_SESSION,
  EventConsumer,
  formatEventsPrompt,
} from "@gateway/redis-bridge";

/** Options of the extension; `optionsFromEnv` maps the environment pi runs in to them (`/from-env` does that). */
export interface GatewayExtensionOptions {
  /** @default redis://127.0.0.1:6379 */
  redisUrl: string;
  /** `central` drains the always-on session `gateway` (and `main`); a satellite drains `pid-<pid>`. */
  role: "central" | "satellite";
  /** @default gateway (central) or pid-<pid> */
  sessionId?: string;
  /** A drain also runs this often. @default 5000 */
  pollIntervalMs?: number;
  /** Raise an alarm in the session when no `heartbeatType` event arrived for this long; 0 disables. @default 0 */
  watchdogMs?: number;
  /** @default cron.heartbeat */
  heartbeatType?: string;
  /** Every key under this prefix (producers must use the same). @default "" */
  keyPrefix?: string;
}

/** GATEWAY_ROLE=central, GATEWAY_REDIS_URL, GATEWAY_SESSION_ID, GATEWAY_POLL_MS, GATEWAY_WATCHDOG_MINUTES. */
export function optionsFromEnv(env: Readonly<Record<string, string | undefined>>): GatewayExtensionOptions {
  return {
    redisUrl: env.GATEWAY_REDIS_URL || "redis://127.0.0.1:6379",
    role: env.GATEWAY_ROLE === "central" ? "central" : "satellite",
    ...(env.GATEWAY_SESSION_ID ? { sessionId: env.GATEWAY_SESSION_ID } : {}),
    ...(env.GATEWAY_POLL_MS ? { pollIntervalMs: Number(env.GATEWAY_POLL_MS) } : {}),
    ...(env.GATEWAY_WATCHDOG_MINUTES ? { watchdogMs: Number(env.GATEWAY_WATCHDOG_MINUTES) * 60_000 } : {}),
  };
}

/**
 * The extension: registers the session in `agent:gateway:sessions`, drains its events loss-free (at start, on every
 * doorbell, after each agent turn), and injects each batch as a user message — a follow-up while the agent is busy.
 * The status line says whether Redis is connected; the watchdog says when heartbeats stop.
 */
export function createGatewayExtension(options: GatewayExtensionOptions): ExtensionFactory {
  return (pi: ExtensionAPI) => {
    const sessionId = options.sessionId ?? (options.role === "central" ? CENTRAL_SESSION : `pid-${process.pid}`);
    let context: ExtensionContext | undefined;
    let consumer: EventConsumer | undefined;
    let lastHeartbeat = Date.now();
    let alarmed = false;
    let watchdog: NodeJS.Timeout | undefined;
    const status = (text: string) => context?.ui.setStatus("gateway", text);

    const inject = async (events: BridgeEvent[]) => {
      if (events.some((event) => event.type === (options.heartbeatType ?? "cron.heartbeat"))) {
        lastHeartbeat = Date.now();
        if (alarmed) {
          alarmed = false;
          status(`🔗 ${sessionId}`);
        }
      }
      const prompt = formatEventsPrompt(events);
      if (context?.isIdle() ?? true) pi.sendUserMessage(prompt);
      else pi.sendUserMessage(prompt, { deliverAs: "followUp" });
    };

    pi.on("session_start", async (_event, ctx) => {
      context = ctx;
      consumer = new EventConsumer({
        url: options.redisUrl,
        sessions: options.role === "central" ? CENTRAL_ALIASES : [sessionId],
        consumerId: `pi-${hostname()}-${sessionId}`,
        ...(options.pollIntervalMs ? { pollIntervalMs: options.pollIntervalMs } : {}),
        ...(options.keyPrefix ? { keyPrefix: options.keyPrefix } : {}),
        deliver: inject,
        onError: (error) => status(`⚠ redis: ${error.message}`),
      });
      try {
        await consumer.start();
        status(`🔗 ${sessionId}`);
      } catch (error) {
        ctx.ui.notify(
          `Gateway extension: cannot reach Redis at ${options.redisUrl} (${(error as Error).message}); retrying`,
          "warning",
        );
      }
      if (options.watchdogMs) {
        watchdog = setInterval(
          () => {
            const silent = Date.now() - lastHeartbeat;
            if (silent < options.watchdogMs! || alarmed) return;
            alarmed = true;
            status("⚠ heartbeat missed");
            pi.sendUserMessage(
              `## ⚠️ MISSED HEARTBEAT\n\nNo heartbeat in ${Math.round(silent / 60_000)} minutes. Check your worker/cron.`,
              context?.isIdle() === false ? { deliverAs: "followUp" } : undefined,
            );
          },
          Math.min(options.watchdogMs, 60_000),
        );
        watchdog.unref();
      }
    });
    // Inside agent_end the agent is not idle yet: drain on the next tick, so a batch starts a new turn.
    pi.on("agent_end", async () => {
      setImmediate(() => void consumer?.drain());
    });
    pi.on("session_shutdown", async () => {
      if (watchdog) clearInterval(watchdog);
      await consumer?.stop();
      consumer = undefined;
    });
  };
}

/** For pi's extension loader: the extension configured from the environment. */
