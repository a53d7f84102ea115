// Pairing: people who wrote to the agent from a channel and got a pairing code, waiting for an operator to let them
// in; devices (browsers, CLIs, apps) to approve and manage; nodes and their commands.
import type { ChannelsPairingListResult } from "@gateway/protocol";
import { errorText, formatTime, h, replace, tableHead } from "../dom.js";
import { toast } from "../shell.js";
import type { Page, PageContext, PageDefinition } from "./page.js";
import { devicesSection } from "./pairing-devices.js";
import { nodesSection } from "./pairing-nodes.js";

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
      h("h2", {}, "DM pairing codes"),
      problem ? h("p", { class: "error", role: "alert" }, problem) : null,
      requests.length === 0
        ? h("p", {}, "No one is waiting. Strangers who message the agent on a channel get a code, and show up here.")
        : h(
            "table",
            {},
            tableHead("Channel", "Who", "Code", "Asked", "Expires", ""),
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

  const devices = devicesSection(client, connection.deviceId);
  const nodes = nodesSection(client);
  const refreshCodes = async () => {
    try {
      result = await client.request("channels.pairing.list", {});
      render();
    } catch (error) {
      render(`Could not list the requests: ${errorText(error)}`);
    }
  };
  const refresh = async () => {
    await Promise.all([refreshCodes(), devices.refresh(), nodes.refresh()]);
  };
  // DM codes come with no event of their own: look again while the page is open. Devices and nodes announce theirs.
  const timer = setInterval(() => void refreshCodes(), 5_000);
  const stops = ["device.pair.requested", "device.pair.resolved"].map((event) =>
    client.on(event, () => void devices.refresh()),
  );
  stops.push(
    ...["node.pair.requested", "node.pair.resolved"].map((event) => client.on(event, () => void nodes.refresh())),
  );
  void refresh();
  const element = h(
    "section",
    { "aria-labelledby": "pairing-title" },
    h("h1", { id: "pairing-title" }, "Pairing"),
    h("div", { class: "stack" }, body, devices.element, nodes.element),
  );
  return {
    element,
    refresh,
    dispose: () => {
      clearInterval(timer);
      for (const stop of stops) stop();
    },
  };
}

export const pairingPage: PageDefinition = { id: "pairing", title: "Pairing", create };
