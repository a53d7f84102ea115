import { ErrorCodes } from "@gateway/protocol";
import { ProtocolError } from "../errors.js";
import type { GatewayServer } from "../gateway-server.js";
import { type DevicePairing, nodeRequestView } from "./device-pairing.js";
import { NODE_INVOKE_DEFAULT_TIMEOUT_MS, NODE_INVOKE_MAX_TIMEOUT_MS, type NodeAnswer } from "./node-registry.js";

const noNodeRequest = (requestId: string) =>
  new ProtocolError(ErrorCodes.INVALID_REQUEST, `no pending node request ${requestId} (see node.pair.list)`);

function parsePayload(payload: unknown, payloadJSON: string | undefined): unknown {
  if (payload !== undefined || payloadJSON === undefined) return payload;
  try {
    return JSON.parse(payloadJSON);
  } catch {
    return payloadJSON;
  }
}

/** `node.pair.list|approve|reject`, `node.list|describe|rename|invoke`, and the node's `node.invoke.result|event`. */
export function registerNodeMethods(server: GatewayServer, devices: DevicePairing): void {
  const { store, nodes } = devices;

  server.registerMethod("node.pair.list", () => ({
    pending: store.pendingNodes().map(nodeRequestView),
    paired: devices.pairedNodeViews(),
  }));

  server.registerMethod("node.pair.approve", async ({ requestId }) => {
    const approved = await store.approveNode(requestId);
    if (!approved) throw noNodeRequest(requestId);
    const resolved = { requestId, nodeId: approved.request.nodeId, decision: "approved" as const, ts: Date.now() };
    server.broadcast("node.pair.resolved", resolved);
    server.logger.info({ nodeId: resolved.nodeId, commands: approved.device.node.commands }, "node approved");
    return resolved;
  });

  server.registerMethod("node.pair.reject", async ({ requestId }) => {
    const rejected = await store.rejectNode(requestId);
    if (!rejected) throw noNodeRequest(requestId);
    const resolved = { requestId, nodeId: rejected.nodeId, decision: "rejected" as const, ts: Date.now() };
    server.broadcast("node.pair.resolved", resolved);
    return resolved;
  });

  server.registerMethod("node.list", () => ({ ts: Date.now(), nodes: devices.nodeSummaries() }));

  server.registerMethod("node.describe", ({ nodeId }) => {
    const summary = devices.nodeSummaries().find((node) => node.nodeId === nodeId);
    if (!summary) throw new ProtocolError(ErrorCodes.INVALID_REQUEST, `unknown node ${nodeId} (see node.list)`);
    return summary;
  });

  server.registerMethod("node.rename", async ({ nodeId, displayName }) => {
    if (!(await store.renameNode(nodeId, displayName)))
      throw new ProtocolError(ErrorCodes.INVALID_REQUEST, `no paired node ${nodeId} (approve it first)`);
    return { nodeId, displayName };
  });

  server.registerMethod(
    "node.invoke",
    async ({ nodeId, command, params, timeoutMs, idempotencyKey }, context) => {
      const node = nodes.get(nodeId);
      if (!node) {
        throw new ProtocolError(ErrorCodes.UNAVAILABLE, `node ${nodeId} is not connected`, {
          details: { code: "NOT_CONNECTED", nodeCommandDispatched: false },
        });
      }
      if (!devices.allowedCommands(node).includes(command)) {
        const declared = node.commands.includes(command);
        throw new ProtocolError(
          ErrorCodes.INVALID_REQUEST,
          declared
            ? `${command} is not approved for node ${nodeId}: approve its pending request (node.pair.list / node.pair.approve)`
            : `node ${nodeId} does not offer ${command} (it declared ${node.commands.join(", ") || "no commands"})`,
          { details: { reason: declared ? "command-not-approved" : "command-not-declared", command } },
        );
      }
      const wait = Math.min(timeoutMs || NODE_INVOKE_DEFAULT_TIMEOUT_MS, NODE_INVOKE_MAX_TIMEOUT_MS);
      const answer: NodeAnswer = await nodes.invoke(
        node,
        command,
        wait,
        (id) => {
          const sent = server.broadcast(
            "node.invoke.request",
            {
              id,
              nodeId,
              command,
              ...(params !== undefined ? { paramsJSON: JSON.stringify(params) } : {}),
              timeoutMs: wait,
              idempotencyKey,
            },
            { connectionIds: [node.connectionId] },
          );
          if (sent === 0) throw new Error("the node's connection is closing");
        },
        context.signal,
      );
      if (!answer.ok) {
        throw new ProtocolError(
          ErrorCodes.UNAVAILABLE,
          `node ${nodeId} failed ${command}: ${answer.error?.message ?? "no reason given"}`,
          { details: { code: answer.error?.code ?? "NODE_ERROR", nodeError: answer.error ?? {} } },
        );
      }
      return { ok: true, nodeId, command, ...(answer.payload !== undefined ? { payload: answer.payload } : {}) };
    },
    { timeoutMs: NODE_INVOKE_MAX_TIMEOUT_MS + 5_000 },
  );

  server.registerMethod("node.invoke.result", ({ id, nodeId, ok, payload, payloadJSON, error }, context) => {
    if (context.identity.deviceId !== nodeId)
      throw new ProtocolError(ErrorCodes.FORBIDDEN, "a node answers only for itself (nodeId is not this connection's)");
    const answer: NodeAnswer = { ok, payload: parsePayload(payload, payloadJSON), ...(error ? { error } : {}) };
    // A late answer (after a timeout) is acknowledged and dropped: the node cannot do anything about it.
    nodes.answer(context.connectionId, id, answer);
    return { ok: true };
  });

  server.registerMethod("node.event", ({ event }, context) => {
    context.logger.debug({ nodeId: context.identity.deviceId, event }, "node event");
    return { ok: true, event, handled: false, reason: "no handler for this event on this gateway" };
  });
}
