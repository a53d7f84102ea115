import type { ChannelLogger } from "@gateway/plugin-sdk";
import { verifySlackSignature } from "./signature.js";

/** Slack's events are small; anything past this is not one. */
const MAX_BODY_BYTES = 1024 * 1024;

/** What the HTTP events route hands on: an `event_callback` body and its retry headers. */
export type EventCallbackHandler = (body: Record<string, unknown>, retryNum?: number, retryReason?: string) => void;

/**
 * The Events API request handler (web Request → Response) mounted on the gateway's port: the v0 signature and the
 * 5-minute window checked over the raw body (401 otherwise), `url_verification` answered with its challenge, every
 * event acked with 200 at once (Slack wants an answer within 3 s) and handed on with `X-Slack-Retry-Num`.
 */
export function createEventsHandler(options: {
  signingSecret: string;
  logger: ChannelLogger;
  onEvent: EventCallbackHandler;
  now?: () => number;
}): (request: Request) => Promise<Response> {
  let lastWarning = 0;
  const refuse = (status: number, reason: string) => {
    // One warning a minute: a flood of forged requests must not flood the log.
    const now = Date.now();
    if (now - lastWarning > 60_000) {
      lastWarning = now;
      options.logger.warn(`slack: refused an HTTP event (${status}): ${reason}`);
    } else options.logger.debug(`slack: refused an HTTP event (${status}): ${reason}`);
    return Response.json({ ok: false, error: reason }, { status });
  };
  return async (request) => {
    const raw = new Uint8Array(await request.arrayBuffer());
    if (raw.length > MAX_BODY_BYTES) return refuse(413, "request body too large");
    const check = verifySlackSignature(
      options.signingSecret,
      {
        timestamp: request.headers.get("x-slack-request-timestamp"),
        signature: request.headers.get("x-slack-signature"),
      },
      raw,
      options.now ? Math.floor(options.now() / 1000) : undefined,
    );
    if (!check.ok) return refuse(401, check.reason);
    const body = parseBody(request.headers.get("content-type") ?? "", Buffer.from(raw).toString("utf8"));
    if (!body) return refuse(400, "not a Slack event (JSON, or a form with payload)");
    if (body.type === "url_verification" && typeof body.challenge === "string")
      return Response.json({ challenge: body.challenge });
    if (body.type === "ssl_check") return new Response(null, { status: 200 });
    if (body.type === "event_callback") {
      const retry = request.headers.get("x-slack-retry-num");
      options.onEvent(
        body,
        retry ? Number(retry) : undefined,
        request.headers.get("x-slack-retry-reason") ?? undefined,
      );
    }
    // Interactivity and commands are not used by this channel: acknowledged so Slack does not retry them.
    return new Response(null, { status: 200 });
  };
}

function parseBody(contentType: string, text: string): Record<string, unknown> | undefined {
  try {
    if (contentType.includes("application/x-www-form-urlencoded")) {
      const payload = new URLSearchParams(text).get("payload");
      return payload ? (JSON.parse(payload) as Record<string, unknown>) : { type: "form" };
    }
    const parsed = JSON.parse(text) as unknown;
    return parsed && typeof parsed === "object" && !Array.isArray(parsed)
      ? (parsed as Record<string, unknown>)
      : undefined;
  } catch {
    return undefined;
  }
}
