// Sends for a channel account another instance runs (`send`, cron announcements, `agent --deliver`): handed to that
// instance, which sends them through its account. Only with fleet.enabled.
import type { SendResult } from "@gateway/plugin-sdk";
import { ErrorCodes, ProtocolError, unavailable } from "@gateway/protocol";
import type { AccountMessage, ChannelManager, ForwardSend, GatewayServer } from "@gateway/server";
import { type Static, Type } from "@sinclair/typebox";
import type { FleetMembership } from "./membership.js";

const SEND_METHOD = "channel.send";

const SendParams = Type.Object(
  {
    key: Type.String({ minLength: 3 }),
    message: Type.Object(
      {
        peer: Type.String({ minLength: 1 }),
        text: Type.String(),
        threadId: Type.Optional(Type.String()),
        replyToMessageId: Type.Optional(Type.String()),
      },
      { additionalProperties: false },
    ),
  },
  { additionalProperties: false },
);
const SendAnswer = Type.Object({ messageIds: Type.Array(Type.String()) }, { additionalProperties: true });

/**
 * Serve sends for the accounts this instance runs, and forward those for accounts it stands by for to their owner
 * (the holder of the account's lease). A send never hops twice: the owner sends through its own account or fails.
 */
export function attachFleetDelivery(
  server: GatewayServer,
  fleet: FleetMembership,
  channels: () => ChannelManager,
): ForwardSend {
  server.registerService({
    name: "fleet-delivery",
    async start() {
      const parts = await fleet.parts();
      parts.rpc.serve(
        SEND_METHOD,
        async (params) => {
          const { key, message } = params as Static<typeof SendParams>;
          const colon = key.indexOf(":");
          const { text, ...target } = message;
          return channels().deliver(
            { ...target, channel: key.slice(0, colon), accountId: key.slice(colon + 1) },
            text,
            { here: true },
          );
        },
        { params: SendParams },
      );
    },
    // The fleet's RPC stops with the fleet service.
    stop() {},
  });

  return async (key: string, message: AccountMessage): Promise<SendResult> => {
    const parts = await fleet.parts();
    const { Lease, FleetRpcError } = await import("@gateway/fleet");
    const holder = await Lease.holder(parts.redis, `${parts.keyPrefix}lease:channel:${key}`).catch(() => undefined);
    if (!holder)
      throw unavailable(`${key} is not running on any instance of the fleet right now (gateway status --fleet)`);
    try {
      return (await parts.rpc.call(holder.owner, SEND_METHOD, { key, message }, { result: SendAnswer })) as SendResult;
    } catch (error) {
      if (!(error instanceof FleetRpcError)) throw error;
      if (error.kind !== "remote")
        throw unavailable(`${key} runs on instance ${holder.owner}, which did not take the message (${error.message})`);
      // The owner refused or the platform failed there: the same answer a local send would give.
      const code = Object.values(ErrorCodes).find((known) => known === error.code);
      throw code ? new ProtocolError(code, error.message) : unavailable(`${key} on ${holder.owner}: ${error.message}`);
    }
  };
}
