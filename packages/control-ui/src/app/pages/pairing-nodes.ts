// The Pairing page's Nodes section: the machines that run commands for the agent (their state and approved
// commands), the command surfaces waiting for approval, and a form that invokes one command with JSON params.
import type { GatewayClient } from "@gateway/client";
import type { NodeListResult, NodePairListResult } from "@gateway/protocol";
import { errorText, formatTime, h, replace, tableHead } from "../dom.js";
import { toast } from "../shell.js";
import type { Section } from "./pairing-devices.js";

function nodeName(node: { displayName?: string; nodeId: string }): string {
  return node.displayName ? `${node.displayName} (${node.nodeId.slice(0, 8)})` : node.nodeId.slice(0, 12);
}

/** Parse the params field: an empty field is no params; anything else must be JSON. */
export function parseParams(text: string): { ok: true; value: unknown } | { ok: false; problem: string } {
  if (!text.trim()) return { ok: true, value: undefined };
  try {
    return { ok: true, value: JSON.parse(text) };
  } catch (error) {
    return { ok: false, problem: `The params are not JSON: ${errorText(error)}` };
  }
}

/** Nodes: known nodes, pending node pairings, and invoking a command. */
export function nodesSection(client: GatewayClient): Section {
  const body = h("div", {}, h("p", {}, "Loading…"));
  let nodes: NodeListResult["nodes"] = [];
  let pairing: NodePairListResult | undefined;

  const nodeSelect = h("select", { id: "invoke-node" });
  const commandSelect = h("select", { id: "invoke-command" });
  const paramsField = h("textarea", { id: "invoke-params", class: "code-editor", rows: 3, value: "{}" });
  const invokeProblem = h("div", { "aria-live": "polite" });
  const output = h("pre", { class: "invoke-output", role: "region", "aria-label": "Invoke result", tabindex: 0 });

  const fillCommands = () => {
    const node = nodes.find((candidate) => candidate.nodeId === nodeSelect.value);
    const previous = commandSelect.value;
    replace(
      commandSelect,
      (node?.commands ?? []).map((command) => h("option", { value: command }, command)),
    );
    if (node?.commands.includes(previous)) commandSelect.value = previous;
  };
  nodeSelect.addEventListener("change", fillCommands);

  const invoke = async (event: Event) => {
    event.preventDefault();
    replace(invokeProblem);
    const params = parseParams(paramsField.value);
    if (!params.ok) {
      replace(invokeProblem, h("p", { class: "error", role: "alert" }, params.problem));
      return;
    }
    if (!nodeSelect.value || !commandSelect.value) {
      replace(
        invokeProblem,
        h("p", { class: "error", role: "alert" }, "Choose a node and one of its approved commands."),
      );
      return;
    }
    output.textContent = "Running…";
    try {
      const answer = await client.request("node.invoke", {
        nodeId: nodeSelect.value,
        command: commandSelect.value,
        ...(params.value === undefined ? {} : { params: params.value }),
      });
      output.textContent = JSON.stringify(answer, null, 2);
    } catch (error) {
      output.textContent = "";
      replace(invokeProblem, h("p", { class: "error", role: "alert" }, `The node did not run it: ${errorText(error)}`));
    }
  };

  const invokeForm = h(
    "form",
    { class: "invoke", "aria-label": "Invoke a command", onsubmit: (event: Event) => void invoke(event) },
    h("h3", {}, "Invoke a command"),
    h("div", { class: "field-row" }, h("label", { for: "invoke-node" }, "Node"), nodeSelect),
    h("div", { class: "field-row" }, h("label", { for: "invoke-command" }, "Command"), commandSelect),
    h("div", { class: "field-row" }, h("label", { for: "invoke-params" }, "Params (JSON)"), paramsField),
    h("button", { class: "primary", type: "submit" }, "Invoke"),
    invokeProblem,
    output,
  );

  const decide = async (requestId: string, decision: "approve" | "reject", name: string) => {
    try {
      await client.request(decision === "approve" ? "node.pair.approve" : "node.pair.reject", { requestId });
      toast(`${name}: ${decision === "approve" ? "commands approved" : "rejected"}`);
    } catch (error) {
      toast(`That failed: ${errorText(error)}`, "error");
    }
    await refresh();
  };

  const render = (problem?: string) => {
    const pending = pairing?.pending ?? [];
    replace(
      body,
      problem ? h("p", { class: "error", role: "alert" }, problem) : null,
      pending.length === 0
        ? null
        : h(
            "table",
            { "aria-label": "Nodes waiting for approval" },
            tableHead("Node", "Commands it offers", "Asked", ""),
            h(
              "tbody",
              {},
              pending.map((request) =>
                h(
                  "tr",
                  { "data-node-request": request.requestId },
                  h("td", {}, nodeName(request)),
                  h(
                    "td",
                    {},
                    (request.commands ?? []).map((command) => h("code", {}, command, " ")),
                  ),
                  h("td", {}, formatTime(request.ts)),
                  h(
                    "td",
                    { class: "actions" },
                    h(
                      "button",
                      {
                        type: "button",
                        class: "primary",
                        "aria-label": `Approve node ${nodeName(request)}`,
                        onclick: () => void decide(request.requestId, "approve", nodeName(request)),
                      },
                      "Approve",
                    ),
                    h(
                      "button",
                      {
                        type: "button",
                        class: "danger",
                        "aria-label": `Reject node ${nodeName(request)}`,
                        onclick: () => void decide(request.requestId, "reject", nodeName(request)),
                      },
                      "Reject",
                    ),
                  ),
                ),
              ),
            ),
          ),
      nodes.length === 0
        ? h("p", { class: "muted" }, "No nodes. A machine running a node host (`gateway node run`) shows up here.")
        : h(
            "table",
            { "aria-label": "Nodes" },
            tableHead("Node", "State", "Approved commands"),
            h(
              "tbody",
              {},
              nodes.map((node) =>
                h(
                  "tr",
                  { "data-node": node.nodeId },
                  h("td", {}, nodeName(node), h("br"), h("small", { class: "muted" }, node.platform ?? "")),
                  h(
                    "td",
                    {},
                    h(
                      "span",
                      { class: `badge ${node.connected ? "ok" : ""}` },
                      node.connected ? "connected" : "offline",
                    ),
                    " ",
                    node.paired ? "paired" : "not paired",
                  ),
                  h(
                    "td",
                    {},
                    node.commands.length ? node.commands.map((command) => h("code", {}, command, " ")) : "none yet",
                  ),
                ),
              ),
            ),
          ),
    );
    const chosen = nodeSelect.value;
    replace(
      nodeSelect,
      nodes.filter((node) => node.connected).map((node) => h("option", { value: node.nodeId }, nodeName(node))),
    );
    if (nodes.some((node) => node.nodeId === chosen && node.connected)) nodeSelect.value = chosen;
    fillCommands();
  };

  const refresh = async () => {
    try {
      const [listed, pairs] = await Promise.all([
        client.request("node.list", {}),
        client.request("node.pair.list", {}),
      ]);
      nodes = listed.nodes;
      pairing = pairs;
      render();
    } catch (error) {
      render(`Could not list the nodes: ${errorText(error)}`);
    }
  };

  const element = h(
    "div",
    { class: "card", "aria-labelledby": "nodes-title", role: "region" },
    h("h2", { id: "nodes-title" }, "Nodes"),
    body,
    invokeForm,
  );
  return { element, refresh };
}
