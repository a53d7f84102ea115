// Channels: every account's state and its last error with the fix, a probe, and logout.
import type { ChannelAccountStatus, ChannelsStatusResult } from "@gateway/protocol";
import { errorText, formatTime, h, replace, tableHead } from "../dom.js";
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
  const loginPanel = h("div", { class: "card", hidden: true, "aria-live": "polite" });
  const probe = h("button", { type: "button", onclick: () => void refresh(true) }, "Probe now");
  const element = h(
    "section",
    { "aria-labelledby": "channels-title" },
    h("div", { class: "title-row" }, h("h1", { id: "channels-title" }, "Channels"), probe),
    h("div", { class: "stack" }, loginPanel, body),
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

  // A QR login: the QR the channel shows, refreshed while waiting, until the phone has scanned it.
  let loginRun = 0;
  const login = async (channel: string, accountId: string) => {
    const run = ++loginRun;
    const qr = h("img", { class: "qr", alt: `QR code to link ${channel}`, width: 264, height: 264 });
    const message = h("p", { role: "status" }, "Asking the channel for a QR…");
    const code = h("p", { class: "pairing-code" });
    const cancel = h("button", { type: "button", onclick: () => finish() }, "Cancel");
    const finish = () => {
      if (run === loginRun) loginRun++;
      loginPanel.hidden = true;
    };
    replace(loginPanel, h("h2", {}, `Link ${channel} (${accountId})`), message, qr, code, cancel);
    loginPanel.hidden = false;
    const show = (answer: { message: string; qrDataUrl?: string; pairingCode?: string }) => {
      message.textContent = answer.message;
      if (answer.qrDataUrl?.startsWith("data:image/")) qr.src = answer.qrDataUrl;
      if (answer.pairingCode) code.textContent = `Or enter this code on the phone: ${answer.pairingCode}`;
    };
    try {
      let answer = await connection.client.request("web.login.start", { accountId });
      while (run === loginRun) {
        show(answer);
        if (answer.connected) {
          toast(`${channel}/${accountId} is linked`);
          finish();
          await refresh();
          return;
        }
        answer = await connection.client.request(
          "web.login.wait",
          {
            accountId,
            timeoutMs: 20_000,
            ...(qr.src.startsWith("data:image/png;base64,") ? { currentQrDataUrl: qr.src } : {}),
          },
          { timeoutMs: 25_000 },
        );
      }
    } catch (error) {
      if (run === loginRun) message.textContent = `The login failed: ${errorText(error)}`;
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
            tableHead("Account", "State", "Last message", "Problem", ""),
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
                    { class: "actions" },
                    account.linked === false
                      ? h(
                          "button",
                          { type: "button", class: "primary", onclick: () => void login(channel, account.accountId) },
                          "Link with QR",
                        )
                      : null,
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
  return {
    element,
    refresh: () => refresh(),
    dispose() {
      loginRun++;
      stop();
    },
  };
}

export const channelsPage: PageDefinition = { id: "channels", title: "Channels", create };
