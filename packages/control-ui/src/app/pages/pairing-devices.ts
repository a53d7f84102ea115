// The Pairing page's Devices section: browsers, CLIs and apps waiting for approval (approve, reject), and the paired
// ones with their tokens (rotate, revoke) — or forget one altogether (remove: its tokens stop working).
import type { GatewayClient } from "@gateway/client";
import type { DevicePairListResult, PairedDevice } from "@gateway/protocol";
import { errorText, formatTime, h, replace, tableHead } from "../dom.js";
import { toast } from "../shell.js";

/** A section of a page, refreshed by the page. */
export interface Section {
  element: HTMLElement;
  refresh(): Promise<void>;
}

function deviceName(device: { displayName?: string; deviceId: string }): string {
  return device.displayName ? `${device.displayName} (${device.deviceId.slice(0, 8)})` : device.deviceId.slice(0, 12);
}

/** Devices: pending requests and paired devices. `ownDeviceId` is this browser's, marked as such. */
export function devicesSection(client: GatewayClient, ownDeviceId: string | undefined): Section {
  const body = h("div", {}, h("p", {}, "Loading…"));
  const notice = h("div", { "aria-live": "polite" });
  let result: DevicePairListResult | undefined;
  /** The device whose new token the notice shows: the notice goes when the device does. */
  let rotatedFor: string | undefined;

  const act = async (what: string, run: () => Promise<unknown>) => {
    try {
      await run();
      toast(what);
    } catch (error) {
      toast(`${what} failed: ${errorText(error)}`, "error");
    }
    await refresh();
  };

  const rotate = async (device: PairedDevice, role: string) => {
    try {
      const rotated = await client.request("device.token.rotate", { deviceId: device.deviceId, role });
      rotatedFor = device.deviceId;
      replace(
        notice,
        h(
          "p",
          { class: "notice", role: "status" },
          `New ${role} token for ${deviceName(device)} (shown once; the old one no longer works): `,
          h("code", { class: "rotated-token" }, rotated.token),
        ),
      );
    } catch (error) {
      toast(`Rotating the token failed: ${errorText(error)}`, "error");
    }
    await refresh();
  };

  const pendingTable = (pending: DevicePairListResult["pending"]) =>
    h(
      "table",
      { "aria-label": "Devices waiting for approval" },
      tableHead("Device", "Asks for", "From", "Asked", ""),
      h(
        "tbody",
        {},
        pending.map((request) =>
          h(
            "tr",
            { "data-device-request": request.requestId },
            h(
              "td",
              {},
              deviceName(request),
              h("br"),
              h("small", { class: "muted" }, [request.clientId, request.platform].filter(Boolean).join(" · ")),
            ),
            h("td", {}, `${request.role ?? "operator"}: ${(request.scopes ?? []).join(", ") || "—"}`),
            h("td", {}, request.remoteIp ?? "—"),
            h("td", {}, formatTime(request.ts)),
            h(
              "td",
              { class: "actions" },
              h(
                "button",
                {
                  type: "button",
                  class: "primary",
                  "aria-label": `Approve device ${deviceName(request)}`,
                  onclick: () =>
                    void act(`${deviceName(request)} is approved`, () =>
                      client.request("device.pair.approve", { requestId: request.requestId }),
                    ),
                },
                "Approve",
              ),
              h(
                "button",
                {
                  type: "button",
                  class: "danger",
                  "aria-label": `Reject device ${deviceName(request)}`,
                  onclick: () =>
                    void act(`${deviceName(request)} is rejected`, () =>
                      client.request("device.pair.reject", { requestId: request.requestId }),
                    ),
                },
                "Reject",
              ),
            ),
          ),
        ),
      ),
    );

  const pairedTable = (paired: PairedDevice[]) =>
    h(
      "table",
      { "aria-label": "Paired devices" },
      tableHead("Device", "Scopes", "Last seen", "Tokens"),
      h(
        "tbody",
        {},
        paired.map((device) =>
          h(
            "tr",
            { "data-device": device.deviceId },
            h(
              "td",
              {},
              deviceName(device),
              device.deviceId === ownDeviceId ? [" ", h("span", { class: "badge" }, "this browser")] : null,
              h("br"),
              h("small", { class: "muted" }, `paired ${formatTime(device.pairedAtMs)}`),
            ),
            h("td", {}, device.scopes.join(", ") || "—"),
            h("td", {}, formatTime(device.lastSeenAtMs)),
            h(
              "td",
              { class: "actions" },
              device.roles.flatMap((role) => [
                h(
                  "button",
                  {
                    type: "button",
                    "aria-label": `Rotate ${role} token of ${deviceName(device)}`,
                    onclick: () => void rotate(device, role),
                  },
                  `Rotate ${role} token`,
                ),
                h(
                  "button",
                  {
                    type: "button",
                    "aria-label": `Revoke ${role} token of ${deviceName(device)}`,
                    onclick: () =>
                      void act(`The ${role} token of ${deviceName(device)} is revoked`, () =>
                        client.request("device.token.revoke", { deviceId: device.deviceId, role }),
                      ),
                  },
                  `Revoke ${role} token`,
                ),
              ]),
              h(
                "button",
                {
                  type: "button",
                  class: "danger",
                  "aria-label": `Remove device ${deviceName(device)}`,
                  onclick: () =>
                    void act(`${deviceName(device)} is removed`, () =>
                      client.request("device.pair.remove", { deviceId: device.deviceId }),
                    ),
                },
                "Remove",
              ),
            ),
          ),
        ),
      ),
    );

  const render = (problem?: string) => {
    const pending = result?.pending ?? [];
    const paired = result?.paired ?? [];
    if (rotatedFor && !paired.some((device) => device.deviceId === rotatedFor)) {
      rotatedFor = undefined;
      replace(notice);
    }
    replace(
      body,
      problem ? h("p", { class: "error", role: "alert" }, problem) : null,
      h("h3", {}, "Waiting for approval"),
      pending.length === 0
        ? h("p", { class: "muted" }, "No device is waiting. A browser or app that is not yet approved shows up here.")
        : pendingTable(pending),
      h("h3", {}, "Paired"),
      paired.length === 0 ? h("p", { class: "muted" }, "No paired devices.") : pairedTable(paired),
    );
  };

  const refresh = async () => {
    try {
      result = await client.request("device.pair.list", {});
      render();
    } catch (error) {
      render(`Could not list the devices: ${errorText(error)}`);
    }
  };

  const element = h(
    "div",
    { class: "card", "aria-labelledby": "devices-title", role: "region" },
    h("h2", { id: "devices-title" }, "Devices"),
    notice,
    body,
  );
  return { element, refresh };
}
