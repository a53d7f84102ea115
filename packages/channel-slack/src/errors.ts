import {
  type ChannelError,
  ChannelError as ChannelErrorClass,
  ChannelNetworkError,
  ChannelPlatformError,
  toChannelError,
} from "@gateway/plugin-sdk";

/** Slack's answers that retrying cannot fix, with what the user does about each. */
const FATAL_FIXES: Record<string, string> = {
  invalid_auth:
    "Slack rejected the token (invalid_auth). Copy the Bot User OAuth Token (xoxb-…) again from OAuth & Permissions, and the app-level token (xapp-…) from Basic Information → App-Level Tokens",
  not_authed: "no token reached Slack (not_authed): set channels.slack.botToken (and appToken for Socket Mode)",
  account_inactive:
    "the token belongs to a deactivated bot or workspace (account_inactive): reinstall the app to the workspace and copy the new token",
  token_revoked:
    "the token was revoked (token_revoked), e.g. the app was uninstalled: reinstall it (OAuth & Permissions → Install to Workspace) and copy the new token",
  token_expired:
    "the token expired (token_expired): this app uses token rotation; turn it off or give a non-expiring bot token",
  not_allowed_token_type:
    "a token of the wrong kind was used (not_allowed_token_type): botToken is the xoxb-… Bot User OAuth Token, appToken the xapp-… app-level token with connections:write",
  team_disabled: "the workspace is disabled (team_disabled)",
  user_removed_from_team: "the bot was removed from the workspace (user_removed_from_team): reinstall the app",
  invalid_app_token:
    "the app-level token is not valid (invalid_app_token): create one with connections:write under Basic Information → App-Level Tokens",
};

interface SlackErrorShape {
  code?: string;
  data?: { error?: string; needed?: string; provided?: string };
  retryAfter?: number;
  statusCode?: number;
  original?: { message?: string; cause?: { code?: string; message?: string } };
  message?: string;
}

/** Whether Slack's error code means the account cannot work until the user fixes something (a token, a scope). */
export const isAccountFatal = (code: string): boolean => code in FATAL_FIXES || code === "missing_scope";

/** What an API error means for the user: the fix for fatal ones, the scope to add for missing_scope. */
export function describeSlackError(
  code: string,
  needed?: string,
  provided?: string,
): { message: string; fatal: boolean } {
  const fix = FATAL_FIXES[code];
  if (fix) return { message: fix, fatal: true };
  if (code === "missing_scope")
    return {
      message: `the Slack app lacks the scope ${needed ?? "(unnamed)"}${provided ? ` (it has ${provided})` : ""}: add it under OAuth & Permissions → Bot Token Scopes, then reinstall the app`,
      fatal: true,
    };
  if (code === "ratelimited") return { message: "rate limited by Slack", fatal: false };
  // Errors about the call itself (channel_not_found, not_in_channel, msg_too_long…) do not get better by retrying.
  return { message: code, fatal: !/^(internal_error|fatal_error|service_unavailable|request_timeout)$/.test(code) };
}

/**
 * A Web API failure as a ChannelError (recognised by the error codes of @slack/web-api, never by message text): the
 * platform answered (fatal ones with the fix; missing_scope with the scope to add), a 429 with its `Retry-After`, an
 * HTTP error, or the network.
 */
export function classifySlackError(operation: string, error: unknown, apiUrl: string): ChannelError {
  if (ChannelErrorClass.isInstance(error)) return error;
  const shape = (error ?? {}) as SlackErrorShape;
  switch (shape.code) {
    case "slack_webapi_platform_error": {
      const code = shape.data?.error ?? "unknown_error";
      const { message, fatal } = describeSlackError(code, shape.data?.needed, shape.data?.provided);
      return new ChannelPlatformError(operation, message, { status: code, fatal, cause: error });
    }
    case "slack_webapi_rate_limited_error": {
      const seconds = shape.retryAfter ?? 1;
      return new ChannelPlatformError(operation, `rate limited by Slack, retry after ${seconds} s`, {
        status: 429,
        retryAfterMs: seconds * 1000,
        cause: error,
      });
    }
    case "slack_webapi_http_error":
      return new ChannelPlatformError(operation, `Slack answered HTTP ${shape.statusCode}`, {
        status: shape.statusCode ?? "http",
        fatal: (shape.statusCode ?? 500) < 500 && shape.statusCode !== 408,
        cause: error,
      });
    case "slack_webapi_request_error": {
      const original = shape.original;
      const reason = original?.cause?.code ?? original?.cause?.message ?? original?.message ?? "request failed";
      return new ChannelNetworkError(operation, `cannot reach the Slack Web API at ${apiUrl}: ${reason}`, {
        cause: error,
      });
    }
    default:
      return toChannelError(operation, error);
  }
}
