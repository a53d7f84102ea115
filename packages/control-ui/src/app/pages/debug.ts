// Debug: the event stream as it arrives, and an RPC console for any method (the gateway checks the scopes).
import { errorText, h, replace } from "../dom.js";
import type { Page, PageContext, PageDefinition } from "./page.js";

const KEPT = 200;

function create({ connection }: PageContext): Page {
  const { client } = connection;
  const events: { at: string; name: string; payload: string }[] = [];
  const stream = h("ol", { class: "event-stream", "aria-label": "Events", tabindex: 0 });
  const method = h("input", { id: "rpc-method", value: "health", list: "rpc-methods", autocomplete: "off" });
  const params = h("textarea", { id: "rpc-params", class: "code-editor", rows: 4, value: "{}" });
  const output = h("pre", { class: "rpc-output", "aria-live": "polite", "aria-label": "Result", tabindex: 0 });
  const methods = h("datalist", { id: "rpc-methods" });
  const hello = connection.status.state === "open" ? connection.status.hello : undefined;
  replace(
    methods,
    (hello?.features.methods ?? []).map((name) => h("option", { value: name })),
  );

  const renderEvents = () =>
    replace(
      stream,
      events.map((event) => h("li", {}, h("code", {}, `${event.at} ${event.name}`), " ", event.payload)),
    );
  const stop = client.on("*", (payload, name) => {
    if (name === "tick") return;
    const text = JSON.stringify(payload) ?? "";
    events.unshift({
      at: new Date().toLocaleTimeString(),
      name,
      payload: text.length > 300 ? `${text.slice(0, 300)}…` : text,
    });
    events.length = Math.min(events.length, KEPT);
    renderEvents();
  });

  const call = async (event: Event) => {
    event.preventDefault();
    let parsed: unknown;
    try {
      parsed = params.value.trim() ? JSON.parse(params.value) : {};
    } catch (error) {
      output.textContent = `The params are not JSON: ${errorText(error)}`;
      return;
    }
    output.textContent = "…";
    try {
      output.textContent = JSON.stringify(await client.call(method.value.trim(), parsed, { retries: 0 }), null, 2);
    } catch (error) {
      output.textContent = `Error: ${errorText(error)}`;
    }
  };

  const element = h(
    "section",
    { "aria-labelledby": "debug-title" },
    h("h1", { id: "debug-title" }, "Debug"),
    h(
      "div",
      { class: "stack" },
      h(
        "form",
        { class: "card", onsubmit: call, "aria-label": "RPC console" },
        h("h2", {}, "Call a method"),
        h("div", { class: "field" }, h("label", { for: "rpc-method" }, "Method"), method, methods),
        h("div", { class: "field" }, h("label", { for: "rpc-params" }, "Params (JSON)"), params),
        h("button", { class: "primary", type: "submit" }, "Call"),
        output,
      ),
      h("div", { class: "card" }, h("h2", {}, "Events"), stream),
      h(
        "div",
        { class: "card" },
        h("h2", {}, "Granted"),
        h("p", {}, `Role ${hello?.auth.role ?? "?"}; scopes ${connection.scopes.join(", ") || "none"}`),
      ),
    ),
  );
  return { element, refresh: () => undefined, dispose: stop };
}

export const debugPage: PageDefinition = { id: "debug", title: "Debug", create };
