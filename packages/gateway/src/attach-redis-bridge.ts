import type { AgentService } from "@gateway/agent";
import type { EventConsumer, RedisConfigSection } from "@gateway/redis-bridge";
import type { GatewayServer } from "@gateway/server";

/** The Redis bridge as a service, loaded only when configured (a gateway without Redis never loads a Redis client). */
export function attachRedisBridge(
  server: GatewayServer,
  agent: AgentService,
  url: string,
  config: () => RedisConfigSection,
): void {
  let consumer: EventConsumer | undefined;
  let reported = "";
  server.registerService({
    name: "redis-bridge",
    async start() {
      const { createCentralConsumer } = await import("@gateway/redis-bridge");
      consumer = createCentralConsumer({
        url,
        config,
        agent: {
          mainSessionKey: agent.mainSessionKey,
          systemEvent: (text, options) => agent.systemEvent(text, options),
          hasEvent: (eventId, sessionKey) => agent.hasEvent(eventId, sessionKey),
        },
        onError: (error) => server.logger.debug({ err: error }, "redis bridge"),
        onDrained: (count) => server.metrics.bridgeEventsDrained(count),
      });
      await consumer.start().catch((error: Error) => {
        server.logger.warn({ err: error }, `redis bridge: cannot reach ${url} yet; retrying in the background`);
      });
    },
    stop: () => consumer?.stop(),
  });
  server.addWarnings(() => {
    const status = consumer?.status();
    const line =
      !status || status.state === "ready"
        ? ""
        : `redis bridge ${status.state} (${url}) since ${new Date(status.since).toISOString()}${status.lastError ? `: ${status.lastError}` : ""} — events wait in Redis and are delivered when it is back`;
    if (line !== reported) {
      reported = line;
      if (line) server.logger.warn(line);
      else server.logger.info(`redis bridge ready (${url})`);
    }
    return line ? [line] : [];
  });
}
