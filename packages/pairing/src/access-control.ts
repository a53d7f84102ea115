import type { ChannelAccessConfig } from "./access-config.js";

/** What access control reads of a message (any channel's normalized inbound message has these). */
export interface AccessSubject {
  chatType: "direct" | "group" | "channel" | "thread";
  /** The conversation: the sender's chat for DMs, the group otherwise. */
  peer: string;
  /** `aliases`: other ids of the same person (WhatsApp: the phone number of someone who writes by a privacy id). */
  sender: { id: string; username?: string; aliases?: readonly string[] };
  text: string;
  /** The platform says the bot was addressed (a mention, or a reply to it). */
  wasMentioned: boolean;
}

/** What happens to an inbound message. */
export type AccessDecision =
  /** Run the agent on it. */
  | { action: "process" }
  /** An unknown sender under `dmPolicy: pairing`: answer with a pairing code, do not run the agent. */
  | { action: "pair" }
  /** A group message that does not address the bot: keep it as context for the next one that does. */
  | { action: "context"; reason: string }
  | { action: "drop"; reason: string };

/** The sender's id and its aliases (strings only: a malformed alias list is ignored, not trusted). */
export function senderIds(sender: AccessSubject["sender"]): string[] {
  const aliases = Array.isArray(sender.aliases) ? sender.aliases : [];
  return [sender.id, ...aliases.filter((alias): alias is string => typeof alias === "string")];
}

/**
 * Whether `sender` is in a list of ids / usernames (`@name` or `name`, any case); `"*"` matches everyone. The
 * sender's aliases count as its id.
 */
export function senderListed(list: readonly string[] | undefined, sender: AccessSubject["sender"]): boolean {
  if (!list) return false;
  const username = sender.username?.toLowerCase();
  const ids = senderIds(sender);
  return list.some((entry) => {
    if (entry === "*" || ids.includes(entry)) return true;
    const name = entry.replace(/^@/, "").toLowerCase();
    return username !== undefined && name === username;
  });
}

/** An account's access settings with its mention patterns compiled once (not per message). */
export interface AccessPolicy {
  readonly config: ChannelAccessConfig;
  readonly mentionPatterns: readonly RegExp[];
}

/** Compile an account's access settings (throws on an invalid mention pattern: config validation reports it first). */
export function accessPolicy(config: ChannelAccessConfig): AccessPolicy {
  return { config, mentionPatterns: (config.mentionPatterns ?? []).map((pattern) => new RegExp(pattern, "i")) };
}

/** A mention of the bot: the platform says so, or the text matches one of the configured patterns. */
export function isMention(message: AccessSubject, patterns: readonly RegExp[]): boolean {
  return message.wasMentioned || patterns.some((pattern) => pattern.test(message.text));
}

/**
 * The access decision for a message, from the account's policy and the senders approved by pairing. DMs follow
 * `dmPolicy`; groups (and channels) `groupPolicy`, the group's own allowlist and mention gating.
 */
export function decideAccess(
  message: AccessSubject,
  policy: AccessPolicy,
  approvedByPairing: (senderId: string) => boolean,
): AccessDecision {
  const { config } = policy;
  if (message.chatType === "direct") {
    const dmPolicy = config.dmPolicy ?? "pairing";
    if (dmPolicy === "disabled") return { action: "drop", reason: "direct messages are disabled (dmPolicy)" };
    const allowed =
      senderListed(config.allowFrom, message.sender) || senderIds(message.sender).some((id) => approvedByPairing(id));
    if (allowed) return { action: "process" };
    if (dmPolicy === "pairing") return { action: "pair" };
    return { action: "drop", reason: `sender ${message.sender.id} is not in allowFrom (dmPolicy ${dmPolicy})` };
  }
  const groupPolicy = config.groupPolicy ?? "allowlist";
  if (groupPolicy === "disabled") return { action: "drop", reason: "groups are disabled (groupPolicy)" };
  const group = config.groups?.[message.peer] ?? config.groups?.["*"];
  if (group?.enabled === false) return { action: "drop", reason: `group ${message.peer} is disabled` };
  if (groupPolicy === "allowlist" && !group)
    return { action: "drop", reason: `group ${message.peer} is not under groups (groupPolicy allowlist)` };
  const senders = group?.allowFrom ?? config.groupAllowFrom;
  if (senders && !senderListed(senders, message.sender))
    return { action: "drop", reason: `sender ${message.sender.id} may not address the bot in ${message.peer}` };
  const requireMention = group?.requireMention ?? config.requireMention ?? true;
  if (requireMention && !isMention(message, policy.mentionPatterns))
    return { action: "context", reason: "not addressed to the bot" };
  return { action: "process" };
}
