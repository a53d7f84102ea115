import type { ChannelLogger } from "@gateway/plugin-sdk";
import { type Logger, LogLevel } from "@slack/bolt";

/**
 * The Slack libraries' logger on the account's logger, at debug: what they log (reconnects, failed calls, errors of
 * sockets being replaced) the plugin reports itself, once and with the fix.
 */
export function slackLogger(logger: ChannelLogger): Logger {
  let level = LogLevel.INFO;
  const text = (parts: unknown[]) =>
    parts.map((part) => (part instanceof Error ? part.message : String(part))).join(" ");
  return {
    debug: (...parts) => logger.debug(`slack library: ${text(parts)}`),
    info: (...parts) => logger.debug(`slack library: ${text(parts)}`),
    warn: (...parts) => logger.debug(`slack library: ${text(parts)}`),
    error: (...parts) => logger.debug(`slack library: ${text(parts)}`),
    setLevel: (next) => {
      level = next;
    },
    getLevel: () => level,
    setName: () => undefined,
  };
}
