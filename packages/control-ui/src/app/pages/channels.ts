// Channels: every account's state and its last error with the fix, a probe, and logout.
import type { ChannelAccountStatus, ChannelsStatusResult } from "@gateway/protocol";
import { errorText, formatTime, h, replace } from "../dom.js";
import { toast } from "../shell.js";
import type { Page, PageContext, PageDefinition } from "./page.js";

function stateOf(account: ChannelAccountStatus): { label: string; kind: string } {
  if (account.enabled === false) return { label: "disabled", kind: "muted" };
  if (account.configured === false) return { label: "not configured", kind: "warn" };
  if (account.connected) return { label: "connected", kind: "ok" };
  if (account.running) return { label: account.healthState ?? "starting", kind: "warn" };
  return { label: account.lastError ? "failed" : "stopped", kind: account.lastError ? "bad" : "muted" };
}

function create({ connection }: PageContext): Page {
  const body = h("div", { class: "stack" }, h("p", {}, "Loading…"));
  const probe = h("button", { type: "button", onclick: () => void refresh(true) }, "Probe now");
  const element = h(
    "section",
    { "aria-labelledby": "channels-title" },
    h("div", { class: "title-row" }, h("h1", { id: "channels-title" }, "Channels"), probe),
    body,
  );
  let result: ChannelsStatusResult | undefined;

  const logout = async (channel: string, accountId: string) => {
    if (!confirm(`Log out ${channel} account ${accountId}? Its stored credentials are deleted.`)) return;
    try {
      await connection.client.request("channels.logout", { channel, accountId });
      toast(`${channel}/${accountId} logged out`);
      await refresh();
    } catch (error) {
      toast(`Logout failed: ${errorText(error)}`, "error");
    }
  };

  const render = (problem?: string) => {
    if (!result) {
      replace(body, h("p", { class: problem ? "error" : "" }, problem ?? "Loading…"));
      return;
    }
    const channels = result.channelOrder;
    replace(
      body,
      problem ? h("p", { class: "error", role: "alert" }, problem) : null,
      channels.length === 0
        ? h(
            "div",
            { class: "card" },
            h("p", {}, "No channel is configured. Add one in Config, for example"),
            h("pre", {}, 'channels: { telegram: { botToken: "123:ABC…" } }'),
          )
        : null,
      channels.map((channel) =>
        h(
          "div",
          { class: "card" },
          h("h2", {}, result?.channelLabels[channel] ?? channel),
          h(
            "table",
            {},
            h(
              "thead",
              {},
              h(
                "tr",
                {},
                h("th", {}, "Account"),
                h("th", {}, "State"),
                h("th", {}, "Last message"),
                h("th", {}, "Problem"),
                h("th", {}, ""),
              ),
            ),
            h(
              "tbody",
              {},
              (result?.channelAccounts[channel] ?? []).map((account) => {
                const state = stateOf(account);
                return h(
                  "tr",
                  {},
                  h("td", {}, account.name ?? account.accountId),
                  h("td", {}, h("span", { class: `badge ${state.kind}` }, state.label)),
                  h("td", {}, formatTime(account.lastInboundAt ?? account.lastOutboundAt ?? undefined)),
                  h("td", { class: "problem" }, account.lastError ?? ""),
                  h(
                    "td",
                    {},
                    h(
                      "button",
                      { type: "button", class: "link", onclick: () => void logout(channel, account.accountId) },
                      "Log out",
                    ),
                  ),
                );
              }),
            ),
          ),
        ),
      ),
      result.warnings?.length
        ? h(
            "ul",
            { class: "warnings" },
            result.warnings.map((warning) => h("li", {}, warning)),
          )
        : null,
    );
  };

  const refresh = async (withProbe = false) => {
    try {
      result = await connection.client.request("channels.status", withProbe ? { probe: true } : {});
      render();
    } catch (error) {
      render(`Could not read the channels: ${errorText(error)}`);
    }
  };
  const stop = connection.client.on("health", () => void refresh());
  void refresh();
  return { element, refresh: () => refresh(), dispose: stop };
}

export const channelsPage: PageDefinition = { id: "channels", title: "Channels", create };
