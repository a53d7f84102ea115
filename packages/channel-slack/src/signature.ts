import { createHmac, timingSafeEqual } from "node:crypto";

/** Slack's window for a request timestamp: older (or further in the future) is refused as a replay. */
export const SLACK_SIGNATURE_WINDOW_SECONDS = 300;

/** Why a request is refused, or `ok`. */
export type SignatureCheck = { ok: true } | { ok: false; reason: string };

/**
 * Check Slack's `v0` signature of an HTTP request over its raw body: `X-Slack-Signature` must equal `v0=` + hex
 * HMAC-SHA256(signingSecret, `v0:<X-Slack-Request-Timestamp>:<raw body>`), compared in constant time, and the
 * timestamp must be within 5 minutes of now.
 */
export function verifySlackSignature(
  signingSecret: string,
  headers: { timestamp: string | null; signature: string | null },
  rawBody: Uint8Array,
  nowSeconds = Math.floor(Date.now() / 1000),
): SignatureCheck {
  const { timestamp, signature } = headers;
  if (!timestamp || !signature) return { ok: false, reason: "missing X-Slack-Request-Timestamp or X-Slack-Signature" };
  if (!/^\d{1,12}$/.test(timestamp)) return { ok: false, reason: "malformed X-Slack-Request-Timestamp" };
  if (Math.abs(nowSeconds - Number(timestamp)) > SLACK_SIGNATURE_WINDOW_SECONDS)
    return {
      ok: false,
      reason: "the request timestamp is more than 5 minutes away from now (a replay, or a clock off)",
    };
  const hmac = createHmac("sha256", signingSecret);
  hmac.update(`v0:${timestamp}:`);
  hmac.update(rawBody);
  const expected = Buffer.from(`v0=${hmac.digest("hex")}`);
  const given = Buffer.from(signature);
  if (given.length !== expected.length || !timingSafeEqual(given, expected))
    return { ok: false, reason: "the signature does not match (check channels.slack.signingSecret)" };
  return { ok: true };
}
