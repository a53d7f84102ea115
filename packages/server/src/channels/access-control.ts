import type { InboundMessage } from "@gateway/plugin-sdk";
import type { ChannelAccessConfig } from "./channels-config.js";

/** What happens to an inbound message. */
export type AccessDecision =
  /** Run the agent on it. */
  | { action: "process" }
  /** An unknown sender under `dmPolicy: pairing`: answer with a pairing code, do not run the agent. */
  | { action: "pair" }
  /** A group message that does not address the bot: keep it as context for the next one that does. */
  | { action: "context"; reason: string }
  | { action: "drop"; reason: string };

/**
 * A sender as a plugin may give it: `aliases` are other ids of the same person (WhatsApp: the phone number of someone
 * who writes by a privacy id), matched like `id`. Not in the plugin contract yet; read defensively.
 */
type SenderWithAliases = InboundMessage["sender"] & { aliases?: unknown };

/** The sender's id and its aliases (strings only). */
export function senderIds(sender: InboundMessage["sender"]): string[] {
  const aliases = (sender as SenderWithAliases).aliases;
  return [
    sender.id,
    ...(Array.isArray(aliases) ? aliases.filter((alias): alias is string => typeof alias === "string") : []),
  ];
}

/**
 * Whether `sender` is in a list of ids / usernames (`@name` or `name`, any case); `"*"` matches everyone. The
 * sender's aliases count as its id.
 */
export function senderListed(list: readonly string[] | undefined, sender: InboundMessage["sender"]): boolean {
  if (!list) return false;
  const username = sender.username?.toLowerCase();
  const ids = senderIds(sender);
  return list.some((entry) => {
    if (entry === "*" || ids.includes(entry)) return true;
    const name = entry.replace(/^@/, "").toLowerCase();
    return username !== undefined && name === username;
  });
}

/** A mention of the bot: the platform says so, or the text matches one of the configured patterns. */
export function isMention(message: InboundMessage, patterns: readonly string[] | undefined): boolean {
  if (message.wasMentioned) return true;
  return (patterns ?? []).some((pattern) => new RegExp(pattern, "i").test(message.text));
}

/**
 * The access decision for a message, from the account's config and the senders approved by pairing. DMs follow
 * `dmPolicy`; groups (and channels) `groupPolicy`, the group's own allowlist and mention gating.
 */
export function decideAccess(
  message: InboundMessage,
  config: ChannelAccessConfig,
  approvedByPairing: (senderId: string) => boolean,
): AccessDecision {
  if (message.chatType === "direct") {
    const policy = config.dmPolicy ?? "pairing";
    if (policy === "disabled") return { action: "drop", reason: "direct messages are disabled (dmPolicy)" };
    const allowed =
      senderListed(config.allowFrom, message.sender) || senderIds(message.sender).some((id) => approvedByPairing(id));
    if (allowed) return { action: "process" };
    if (policy === "pairing") return { action: "pair" };
    return { action: "drop", reason: `sender ${message.sender.id} is not in allowFrom (dmPolicy ${policy})` };
  }
  const policy = config.groupPolicy ?? "allowlist";
  if (policy === "disabled") return { action: "drop", reason: "groups are disabled (groupPolicy)" };
  const group = config.groups?.[message.peer] ?? config.groups?.["*"];
  if (group?.enabled === false) return { action: "drop", reason: `group ${message.peer} is disabled` };
  if (policy === "allowlist" && !group)
    return { action: "drop", reason: `group ${message.peer} is not under groups (groupPolicy allowlist)` };
  const senders = group?.allowFrom ?? config.groupAllowFrom;
  if (senders && !senderListed(senders, message.sender))
    return { action: "drop", reason: `sender ${message.sender.id} may not address the bot in ${message.peer}` };
  const requireMention = group?.requireMention ?? config.requireMention ?? true;
  if (requireMention && !isMention(message, config.mentionPatterns))
    return { action: "context", reason: "not addressed to the bot" };
  return { action: "process" };
}
