// Replies that go to channels: answering a channel's message in its chat's session, the target an `agent` run's
// reply is delivered to, and the chat "last" points at.
import type { AgentParams } from "@gateway/protocol";
import { GatewayError, invalidRequest } from "@gateway/protocol";
import type { AgentHost } from "./agent-host.js";
import type { AgentService } from "./agent-service.js";
import type { StartedRun } from "./run-registry.js";
import { type DmScope, type MessageSource, sessionKeyFor } from "./session-keys.js";
import type { SessionOrigin } from "./session-store.js";

/** A message from a channel, as far as answering it is concerned. */
export interface ChannelMessageSource extends MessageSource {
  accountId: string;
}

/**
 * Answer a message from a channel: it runs in its chat's session (DMs by `dmScope`), remembers where it came from,
 * and resolves with the reply to send back — a sentence saying what failed when the run failed, nothing when it was
 * aborted.
 */
export async function answerChannelMessage(
  service: AgentService,
  dmScope: DmScope | undefined,
  source: ChannelMessageSource,
  text: string,
): Promise<string | undefined> {
  const sessionKey = sessionKeyFor(source, { agentId: service.agentId, ...(dmScope ? { dmScope } : {}) });
  const origin: SessionOrigin = {
    channel: source.channel,
    accountId: source.accountId,
    peer: source.peer,
    ...(source.threadId ? { threadId: source.threadId } : {}),
  };
  let run: StartedRun;
  try {
    run = await service.send(sessionKey, text, { origin });
  } catch (error) {
    // Too large, a full transcript, a full disk: the sender is told in words, nothing was run.
    if (GatewayError.isInstance(error)) return `Sorry, I could not take that message: ${error.message}`;
    throw error;
  }
  const outcome = await run.done;
  if (outcome.stopReason === "error") return `Sorry, I could not answer: ${outcome.error ?? "the agent failed"}`;
  if (outcome.stopReason === "aborted") return undefined;
  return outcome.text;
}

/** Where `agent` with `deliver` sends its reply, refused when no channel serves it; undefined without `deliver`. */
export function deliveryTarget(host: AgentHost, params: AgentParams): SessionOrigin | undefined {
  const target: SessionOrigin | undefined =
    params.deliver && params.channel
      ? {
          channel: params.channel,
          ...(params.accountId ? { accountId: params.accountId } : {}),
          ...(params.to ? { peer: params.to } : {}),
          ...(params.threadId ? { threadId: params.threadId } : {}),
        }
      : undefined;
  if (params.deliver && !target) throw invalidRequest("deliver needs channel (and usually to)");
  if (target) {
    if (!host.checkDeliveryTarget)
      throw invalidRequest(`cannot deliver to ${target.channel}: no channels are configured`);
    host.checkDeliveryTarget(target);
  }
  return target;
}

/** Where "last" points: the main session's chat, else the most recently active chat; undefined before any. */
export function lastOriginOf(service: AgentService): SessionOrigin | undefined {
  const main = service.store.get(service.mainSessionKey)?.origin;
  if (main?.peer) return main;
  return service.store
    .list()
    .filter((entry) => entry.origin?.peer)
    .sort((a, b) => b.updatedAt - a.updatedAt)[0]?.origin;
}
