import { type ChannelError, ChannelNetworkError, ChannelPlatformError, toChannelError } from "@gateway/plugin-sdk";
import { DiscordAPIError, DiscordjsError, DiscordjsErrorCodes, HTTPError, RateLimitError } from "discord.js";

const PORTAL = "https://discord.com/developers/applications";

/** A wrong or reset token, whichever way Discord said so. */
const badToken = (how: string) =>
  `Discord rejected the bot token (${how}): it is wrong, or it was reset (Discord resets a token that burns its daily session starts). Copy a new one from the Developer Portal (${PORTAL} → your application → Bot → Reset Token) into channels.discord.token.`;

/**
 * The gateway close codes after which Discord will refuse every reconnect the same way (discord.js stops there too):
 * each with what the user has to change.
 */
export const FATAL_CLOSE_CODES: Readonly<Record<number, string>> = {
  4004: badToken("gateway close 4004 Authentication failed"),
  4010: "Discord refused the shard (gateway close 4010 Invalid shard): this gateway runs one shard; do not start it with a custom shard setup.",
  4011: "Discord requires sharding for this bot (gateway close 4011 Sharding required: it is in more than 2,500 servers); one gateway process cannot run it.",
  4012: "Discord refused the gateway API version (gateway close 4012 Invalid API version): update @gateway/channel-discord.",
  4013: "Discord refused the intents (gateway close 4013 Invalid intents): update @gateway/channel-discord.",
  4014: `Discord refused a privileged intent this bot has not enabled (gateway close 4014 Disallowed intents): turn on "Message Content Intent" in the Developer Portal (${PORTAL} → your application → Bot → Privileged Gateway Intents), save, and restart the account (a config change restarts it).`,
};

/** The name of a gateway close code, for status lines. */
export function closeCodeName(code: number): string {
  const names: Record<number, string> = {
    1000: "normal",
    1001: "going away",
    1006: "connection lost",
    4000: "unknown error",
    4001: "unknown opcode",
    4002: "decode error",
    4003: "not authenticated",
    4004: "authentication failed",
    4005: "already authenticated",
    4007: "invalid sequence",
    4008: "rate limited",
    4009: "session timed out",
    4010: "invalid shard",
    4011: "sharding required",
    4012: "invalid API version",
    4013: "invalid intents",
    4014: "disallowed intents",
    4200: "resuming",
  };
  return names[code] ?? "closed";
}

/** A gateway close that ends the account for good, as a fatal ChannelError. */
export function fatalCloseError(code: number, cause?: unknown): ChannelPlatformError | undefined {
  const message = FATAL_CLOSE_CODES[code];
  if (!message) return undefined;
  return new ChannelPlatformError("gateway", message, { status: code, fatal: true, cause });
}

const NETWORK_CODES = new Set([
  "ECONNREFUSED",
  "ECONNRESET",
  "ETIMEDOUT",
  "EAI_AGAIN",
  "ENOTFOUND",
  "EPIPE",
  "UND_ERR_SOCKET",
  "UND_ERR_CONNECT_TIMEOUT",
]);

/** The network error code somewhere in an error's cause chain (`ECONNREFUSED`, …), if there is one. */
function networkCode(error: unknown): string | undefined {
  for (let current = error, depth = 0; current && depth < 5; depth++) {
    const code = (current as { code?: unknown }).code;
    if (typeof code === "string" && NETWORK_CODES.has(code)) return code;
    if ((current as { name?: string }).name === "AbortError") return "timeout";
    current = (current as { cause?: unknown }).cause;
  }
  return undefined;
}

/**
 * What went wrong, as a ChannelError: Discord answered (401 is fatal with the fix, 403 names the missing permission,
 * 429 carries the wait, other 4xx are not worth retrying), the network failed (retried), or something else threw.
 */
export function classifyDiscordError(operation: string, error: unknown, apiRoot: string): ChannelError {
  if (error instanceof DiscordjsError && error.code === DiscordjsErrorCodes.TokenInvalid)
    return new ChannelPlatformError(operation, badToken("401 Unauthorized"), {
      status: 401,
      fatal: true,
      cause: error,
    });
  if (error instanceof DiscordAPIError) {
    const status = error.status;
    const options = { status, cause: error };
    if (status === 401)
      return new ChannelPlatformError(operation, badToken("401 Unauthorized"), { ...options, fatal: true });
    if (status === 403)
      return new ChannelPlatformError(
        operation,
        `403 ${error.message} (code ${error.code}): the bot lacks a permission in that channel (View Channel, Send Messages, Send Messages in Threads, Attach Files) or the user does not accept DMs from it`,
        { ...options, fatal: true },
      );
    if (status === 404)
      return new ChannelPlatformError(
        operation,
        `404 ${error.message} (code ${error.code}): no such channel or message for this bot (a DM needs the DM channel id, or user:<user id>)`,
        { ...options, fatal: true },
      );
    // Any other 4xx is Discord refusing this request as it is: sending it again cannot help.
    return new ChannelPlatformError(operation, `${status} ${error.message} (code ${error.code})`, {
      ...options,
      fatal: status >= 400 && status < 500,
    });
  }
  if (error instanceof RateLimitError)
    return new ChannelPlatformError(operation, `rate limited by Discord, retry after ${error.retryAfter} ms`, {
      status: 429,
      retryAfterMs: error.retryAfter,
      cause: error,
    });
  if (error instanceof HTTPError)
    return new ChannelPlatformError(operation, `Discord answered ${error.status} ${error.message}`, {
      status: error.status,
      cause: error,
    });
  const network = networkCode(error);
  if (network)
    return new ChannelNetworkError(operation, `cannot reach Discord at ${apiRoot}: ${network}`, { cause: error });
  return toChannelError(operation, error);
}
