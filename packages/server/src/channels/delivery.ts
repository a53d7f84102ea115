import type { SendResult } from "@gateway/plugin-sdk";
import { invalidRequest, unavailable } from "@gateway/protocol";
import type { AccountRuntime, AccountSupervisor } from "./account-supervisor.js";

/** Where a message goes. */
export interface DeliveryTarget {
  /** Omitted: the only configured channel (an error names them when there are several). */
  channel?: string;
  accountId?: string;
  peer: string;
  threadId?: string;
  replyToMessageId?: string;
}

/** A message for an account's chat, as `send` takes it. */
export interface AccountMessage {
  peer: string;
  text: string;
  threadId?: string;
  replyToMessageId?: string;
}

/** Fleet mode: send through the instance that runs the account `key` (`<channel>:<account>`) when this one does not. */
export type ForwardSend = (key: string, message: AccountMessage) => Promise<SendResult>;

/**
 * Outbound messages that do not answer an inbound one (`send`, `agent --deliver`, cron announcements, the
 * heartbeat): which account takes them, with an error that says what to configure when none can, and the send.
 */
export class ChannelDelivery {
  constructor(
    private readonly supervisor: AccountSupervisor,
    private readonly setupHint: () => string,
    /** Told of every send to a platform, and whether it went through (for /metrics). */
    private readonly onSend?: (channel: string, accountId: string, ok: boolean) => void,
    private readonly forwardSend?: ForwardSend,
  ) {}

  /** The account for a channel (the only configured one when omitted) and account id (its default when omitted). */
  resolve(channel: string | undefined, accountId: string | undefined): AccountRuntime {
    const accounts = this.supervisor.accounts;
    const configured = [...new Set(accounts.map((runtime) => runtime.channel))];
    const name = channel ?? (configured.length === 1 ? configured[0] : undefined);
    if (!name)
      throw invalidRequest(
        configured.length === 0
          ? `no channels are configured (${this.setupHint()})`
          : `say which channel (configured: ${configured.join(", ")})`,
      );
    const candidates = accounts.filter((runtime) => runtime.channel === name);
    if (candidates.length === 0)
      throw invalidRequest(
        `channel "${name}" is not configured (${configured.length ? `configured: ${configured.join(", ")}` : `no channels are configured: add channels.${name} to the config`})`,
      );
    const runtime = accountId
      ? candidates.find((candidate) => candidate.accountId === accountId)
      : (candidates.find((candidate) => candidate.accountId === "default") ?? candidates[0]);
    if (!runtime)
      throw invalidRequest(
        `${name} has no account "${accountId}" (accounts: ${candidates.map((candidate) => candidate.accountId).join(", ")})`,
      );
    return runtime;
  }

  /** Throw (with what to do) when no configured account could take a message to `target`. */
  checkTarget(target: { channel: string; accountId?: string; peer?: string }): void {
    this.resolve(target.channel, target.accountId);
    if (!target.peer) throw invalidRequest(`deliver to ${target.channel} needs to (the chat id)`);
  }

  /**
   * Send text through a running account (chunked by the plugin) — in a fleet, through the instance that runs it
   * when that is another one (`here: true`: only here, for a send forwarded from elsewhere).
   */
  async send(runtime: AccountRuntime, message: AccountMessage, options: { here?: boolean } = {}): Promise<SendResult> {
    const account = runtime.account;
    if (runtime.state === "standby") {
      if (this.forwardSend && !options.here) return this.forwardSend(runtime.key, message);
      throw unavailable(
        `${runtime.key} runs on another instance of the fleet: send through that one (gateway status --fleet)`,
      );
    }
    if (!account || runtime.state === "fatal" || runtime.state === "stopped")
      throw unavailable(
        `${runtime.key} is not running${runtime.status.lastError ? ` (${runtime.status.lastError})` : ""}`,
      );
    let result: SendResult;
    try {
      result = await account.sendText(message);
    } catch (error) {
      this.onSend?.(runtime.channel, runtime.accountId, false);
      throw error;
    }
    this.onSend?.(runtime.channel, runtime.accountId, true);
    runtime.status.lastOutboundAt = Date.now();
    return result;
  }

  /** Send text to a chat (`here: true`: only through an account running on this instance). */
  async deliver(
    target: DeliveryTarget,
    text: string,
    options: { here?: boolean } = {},
  ): Promise<SendResult & { channel: string; accountId: string }> {
    const runtime = this.resolve(target.channel, target.accountId);
    const result = await this.send(
      runtime,
      {
        peer: target.peer,
        text,
        ...(target.threadId ? { threadId: target.threadId } : {}),
        ...(target.replyToMessageId ? { replyToMessageId: target.replyToMessageId } : {}),
      },
      options,
    );
    return { ...result, channel: runtime.channel, accountId: runtime.accountId };
  }
}
