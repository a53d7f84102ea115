import type { DeviceIdentity } from "./device-identity.js";
import { createGatewayClient, type GatewayClient, type GatewayClientOptions } from "./gateway-client.js";

/** Runs one command a gateway operator invoked on this node; what it returns is the answer's payload. */
export type NodeCommandHandler = (
  params: unknown,
  context: { command: string; timeoutMs: number | undefined },
) => unknown;

/** Options of `createNodeClient`. */
export interface NodeClientOptions extends Omit<GatewayClientOptions, "role" | "scopes" | "commands" | "device"> {
  /** A node is a device: it connects with its identity (and, once paired, its device token). */
  device: DeviceIdentity;
  /** The commands this node offers, by name (`system.which`, …); the gateway sends only approved ones. */
  commands: Record<string, NodeCommandHandler>;
}

/**
 * A node: a client with role `node` that declares its commands and answers `node.invoke.request` events with
 * `node.invoke.result` (a handler that throws answers `ok: false` with its message). The operator approves the
 * node's command surface once (`node.pair.approve`).
 */
export function createNodeClient(options: NodeClientOptions): GatewayClient {
  const { commands, ...rest } = options;
  const client = createGatewayClient({
    ...rest,
    role: "node",
    commands: Object.keys(commands),
    // A headless node host (the id the reference knows for it); its presence entry is keyed by its device id.
    client: { id: "node-host", mode: "node", instanceId: options.device.deviceId, ...options.client },
  });
  client.on("node.invoke.request", (request) => {
    void (async () => {
      let answer: Record<string, unknown>;
      try {
        const handler = Object.hasOwn(commands, request.command) ? commands[request.command] : undefined;
        if (!handler)
          throw Object.assign(new Error(`this node has no command ${request.command}`), { code: "UNKNOWN_COMMAND" });
        const params = request.paramsJSON === undefined ? undefined : JSON.parse(request.paramsJSON);
        const payload = await handler(params, { command: request.command, timeoutMs: request.timeoutMs });
        answer = { id: request.id, nodeId: request.nodeId, ok: true, ...(payload !== undefined ? { payload } : {}) };
      } catch (error) {
        const code = (error as { code?: unknown }).code;
        answer = {
          id: request.id,
          nodeId: request.nodeId,
          ok: false,
          error: {
            code: typeof code === "string" && code ? code : "COMMAND_FAILED",
            message: (error as Error).message || "the command failed",
          },
        };
      }
      await client.call("node.invoke.result", answer).catch(() => undefined);
    })();
  });
  return client;
}
