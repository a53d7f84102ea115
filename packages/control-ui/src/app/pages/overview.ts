// Overview: is the gateway well, what is missing, and how busy is it (event-loop delay, connections, memory).
import type { HealthResult, StatusResult } from "@gateway/protocol";
import { errorText, formatDuration, formatTime, h, replace } from "../dom.js";
import type { Page, PageContext, PageDefinition } from "./page.js";

function figure(label: string, value: string): HTMLElement {
  return h("div", { class: "figure" }, h("dt", {}, label), h("dd", {}, value));
}

function create({ connection }: PageContext): Page {
  const body = h("div", { class: "stack" }, h("p", {}, "Loading…"));
  const element = h(
    "section",
    { "aria-labelledby": "overview-title" },
    h("h1", { id: "overview-title" }, "Overview"),
    body,
  );
  let status: StatusResult | undefined;
  let health: HealthResult | undefined;
  let problem = "";

  const render = () => {
    if (!status || !health) {
      replace(body, h("p", { class: problem ? "error" : "" }, problem || "Loading…"));
      return;
    }
    const loop = health.eventLoop;
    const warnings = [...new Set([...status.warnings, ...health.gateway.warnings])];
    replace(
      body,
      problem ? h("p", { class: "error", role: "alert" }, problem) : null,
      h(
        "div",
        { class: "card" },
        h(
          "h2",
          {},
          health.ok
            ? h("span", { class: "badge ok" }, "Healthy")
            : h("span", { class: "badge warn" }, "Needs attention"),
        ),
        h(
          "dl",
          { class: "figures" },
          figure("Version", status.version),
          figure("Up for", formatDuration(status.uptimeMs)),
          figure("Listening on", `${status.listen.host}:${status.listen.port}`),
          figure("Auth", status.authMode),
          figure("Connections", `${status.connections.operators} operators, ${status.connections.nodes} nodes`),
          figure(
            "Event-loop delay",
            loop ? `p99 ${loop.delayP99Ms.toFixed(1)} ms, max ${loop.delayMaxMs.toFixed(1)} ms` : "—",
          ),
          figure("Memory", `${Math.round(health.gateway.memory.rssBytes / 1048576)} MB`),
          figure("Sessions", String(health.sessions?.count ?? 0)),
          figure(
            "Heartbeat",
            health.heartbeatSeconds ? `every ${formatDuration(health.heartbeatSeconds * 1000)}` : "off",
          ),
          figure("Checked", formatTime(health.ts)),
        ),
      ),
      h(
        "div",
        { class: "card" },
        h("h2", {}, "What is missing"),
        warnings.length === 0
          ? h("p", {}, "Nothing: the gateway has what it needs.")
          : h(
              "ul",
              { class: "warnings" },
              warnings.map((warning) => h("li", {}, warning)),
            ),
      ),
    );
  };

  const refresh = async () => {
    try {
      [status, health] = await Promise.all([connection.client.request("status"), connection.client.request("health")]);
      problem = "";
    } catch (error) {
      problem = `Could not refresh: ${errorText(error)} (showing the last figures)`;
    }
    render();
  };
  const stop = connection.client.on("health", () => void refresh());
  void refresh();
  return { element, refresh, dispose: stop };
}

export const overviewPage: PageDefinition = { id: "overview", title: "Overview", create };
