/** How direct messages map to sessions (`session.dmScope`). */
export type DmScope = "main" | "per-peer" | "per-channel-peer";

/** Where a message came from, as far as its session is concerned. */
export interface MessageSource {
  channel: string;
  chatType: "direct" | "group" | "channel" | "thread";
  /** The sender (direct) or the group/channel id (group, channel, thread). */
  peer: string;
  /** Forum topics and threads get their own session under their group. */
  threadId?: string;
}

/** Ids inside a key must not contain the separator. */
const part = (value: string) => value.replaceAll(":", "_");

/**
 * The session key of a message (PROTOCOL.md): DMs share `agent:<a>:main`, or get `agent:<a>:dm:<peer>` (per-peer) or
 * `agent:<a>:<channel>:dm:<peer>` (per-channel-peer); groups `agent:<a>:<channel>:group:<id>`, a thread in a group
 * `…:group:<id>:thread:<threadId>`.
 */
export function sessionKeyFor(source: MessageSource, options: { agentId?: string; dmScope?: DmScope } = {}): string {
  const agent = `agent:${part(options.agentId ?? "main")}`;
  const channel = part(source.channel);
  if (source.chatType === "direct") {
    const scope = options.dmScope ?? "main";
    if (scope === "main") return `${agent}:main`;
    if (scope === "per-peer") return `${agent}:dm:${part(source.peer)}`;
    return `${agent}:${channel}:dm:${part(source.peer)}`;
  }
  const group = `${agent}:${channel}:group:${part(source.peer)}`;
  return source.threadId ? `${group}:thread:${part(source.threadId)}` : group;
}

/** The session of a cron job's isolated runs. */
export const cronSessionKey = (jobId: string) => `cron:${part(jobId)}`;
