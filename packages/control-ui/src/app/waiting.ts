// The page a browser shows while the gateway has not yet approved its device: the command that approves it (with
// this request's id), and this browser's device id to compare with what the gateway lists. The page retries by
// itself, so there is nothing to fill in.
import { h } from "./dom.js";

/** How often a browser waiting for approval asks again. */
export const APPROVAL_RETRY_MS = 2_000;

/** The "waiting for approval" card. */
export function waitingForApproval(requestId: string | undefined, deviceId: string | undefined): HTMLElement {
  const command = `gateway devices approve ${requestId ?? "--latest"}`;
  return h(
    "section",
    { class: "card waiting", "aria-label": "Waiting for approval" },
    h("h2", {}, "Waiting for approval"),
    h(
      "p",
      { role: "status" },
      "waiting for approval: run ",
      h("code", { class: "approve-command" }, command),
      " on the gateway's machine, or approve this browser on the Pairing page of a Control UI that is signed in.",
    ),
    h(
      "dl",
      {},
      h("dt", {}, "Request"),
      h("dd", {}, h("code", { "data-request-id": requestId ?? "" }, requestId ?? "(not yet filed)")),
      h("dt", {}, "This browser's device"),
      h("dd", {}, h("code", { "data-device-id": deviceId ?? "" }, deviceId ?? "(none)")),
    ),
    h("p", { class: "muted" }, "This page continues by itself once the device is approved."),
  );
}
