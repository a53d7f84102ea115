// Pairing: people who wrote to the agent from a channel and got a pairing code, waiting for an operator to let them
// in. (Devices and nodes join this page with device pairing.)
import type { ChannelsPairingListResult } from "@gateway/protocol";
import { errorText, formatTime, h, replace } from "../dom.js";
import { toast } from "../shell.js";
import type { Page, PageContext, PageDefinition } from "./page.js";

function create({ connection }: PageContext): Page {
  const { client } = connection;
  const body = h("div", { class: "card" }, h("p", {}, "Loading…"));
  let result: ChannelsPairingListResult | undefined;

  const approve = async (request: ChannelsPairingListResult["requests"][number]) => {
    try {
      await client.request("channels.pairing.approve", {
        channel: request.channel,
        accountId: request.accountId,
        requestId: request.requestId,
        notify: request.notifySupported,
      });
      toast(`${request.senderLabel} may talk to the agent now`);
    } catch (error) {
      toast(`Approval failed: ${errorText(error)}`, "error");
    }
    await refresh();
  };

  const render = (problem?: string) => {
    const requests = result?.requests ?? [];
    replace(
      body,
      h("h2", {}, "Waiting for approval"),
      problem ? h("p", { class: "error", role: "alert" }, problem) : null,
      requests.length === 0
        ? h("p", {}, "No one is waiting. Strangers who message the agent on a channel get a code, and show up here.")
        : h(
            "table",
            {},
            h(
              "thead",
              {},
              h(
                "tr",
                {},
                h("th", {}, "Channel"),
                h("th", {}, "Who"),
                h("th", {}, "Code"),
                h("th", {}, "Asked"),
                h("th", {}, "Expires"),
                h("th", {}, ""),
              ),
            ),
            h(
              "tbody",
              {},
              requests.map((request) =>
                h(
                  "tr",
                  { "data-code": request.requestId },
                  h("td", {}, `${request.channelLabel} (${request.accountId})`),
                  h("td", {}, `${request.senderLabel}`, h("br"), h("small", { class: "muted" }, request.senderId)),
                  h("td", {}, h("code", {}, request.requestId)),
                  h("td", {}, formatTime(Date.parse(request.createdAt))),
                  h("td", {}, formatTime(Date.parse(request.expiresAt))),
                  h(
                    "td",
                    {},
                    h(
                      "button",
                      { type: "button", class: "primary", onclick: () => void approve(request) },
                      `Approve ${request.requestId}`,
                    ),
                  ),
                ),
              ),
            ),
          ),
    );
  };

  const refresh = async () => {
    try {
      result = await client.request("channels.pairing.list", {});
      render();
    } catch (error) {
      render(`Could not list the requests: ${errorText(error)}`);
    }
  };
  // New requests come with no event of their own: look again while the page is open.
  const timer = setInterval(() => void refresh(), 5_000);
  void refresh();
  const element = h(
    "section",
    { "aria-labelledby": "pairing-title" },
    h("h1", { id: "pairing-title" }, "Pairing"),
    h("div", { class: "stack" }, body),
  );
  return { element, refresh, dispose: () => clearInterval(timer) };
}

export const pairingPage: PageDefinition = { id: "pairing", title: "Pairing", create };
