import { type DmPairingStore, decideAccess, PAIRING_PENDING_PER_ACCOUNT } from "@gateway/pairing";
import type { InboundMessage, SendResult } from "@gateway/plugin-sdk";
import type { Logger } from "pino";
import type { AccountRuntime } from "./account-supervisor.js";

/** A message that passed access control, with what the agent should read. */
export interface AcceptedMessage {
  /** The last message of the burst (the reply answers it). */
  inbound: InboundMessage;
  /** The burst's texts, earlier unanswered group messages as context, and media references. */
  text: string;
}

/** What the channels need from the gateway: the agent. */
export interface ChannelAgentHost {
  /** Run the agent on a message; resolves with the reply to send back (empty: nothing to send). */
  run(message: AcceptedMessage): Promise<string | undefined>;
}

/** What the pipeline needs to answer. */
export interface InboundPipelineOptions {
  logger: Logger;
  pairing: DmPairingStore;
  host: ChannelAgentHost;
  send(
    runtime: AccountRuntime,
    message: { peer: string; text: string; threadId?: string; replyToMessageId?: string },
  ): Promise<SendResult>;
  /** Fleet mode: true exactly once across the instances for a message key. */
  firstSeen?: (key: string) => Promise<boolean>;
}

const TYPING_INTERVAL_MS = 4_500;
const DEDUPE_LIMIT = 10_000;

/** A media reference as the agent reads it. */
const mediaLine = (media: NonNullable<InboundMessage["media"]>[number]) =>
  `[${media.kind}${media.fileName ? ` "${media.fileName}"` : ""}${media.mimeType ? ` (${media.mimeType})` : ""}: ${media.path ?? "not downloaded (too large)"}]`;

const senderLabel = (sender: InboundMessage["sender"]) =>
  sender.name || (sender.username ? `@${sender.username}` : sender.id);

/**
 * Carries each inbound message from an account to the agent and the reply back: dedupe (platforms redeliver),
 * access control (DM pairing codes for unknown senders, allowlists, group policy and mention gating), unanswered
 * group messages kept as context for the next mention, a debounce that answers a sender's burst once, "typing…"
 * while the agent works, and the reply to the chat and thread the message came from.
 */
export class InboundPipeline {
  readonly #options: InboundPipelineOptions;
  readonly #seen = new Map<string, number>();
  readonly #bursts = new Map<string, { messages: InboundMessage[]; timer: NodeJS.Timeout }>();
  readonly #history = new Map<string, string[]>();

  constructor(options: InboundPipelineOptions) {
    this.#options = options;
  }

  receive(runtime: AccountRuntime, message: InboundMessage): void {
    const { logger, pairing } = this.#options;
    const key = runtime.key;
    const dedupeKey = `${key}:${message.peer}:${message.messageId}`;
    if (this.#seen.has(dedupeKey)) {
      logger.debug(`${key}: duplicate message ${message.messageId} ignored`);
      return;
    }
    this.#seen.set(dedupeKey, Date.now());
    if (this.#seen.size > DEDUPE_LIMIT) this.#seen.delete(this.#seen.keys().next().value!);
    const firstSeen = this.#options.firstSeen;
    if (!firstSeen) {
      this.#admit(runtime, message);
      return;
    }
    // Fleet mode: a message another instance already took in (before this one took the account over) is dropped;
    // senders are judged once the fleet's DM pairing records are read.
    Promise.all([firstSeen(dedupeKey), pairing.ready()]).then(
      ([first]) => {
        if (first) this.#admit(runtime, message);
        else logger.debug(`${key}: message ${message.messageId} was taken in by another instance`);
      },
      (error: Error) => {
        logger.warn({ err: error }, `${key}: fleet dedupe unavailable; taking message ${message.messageId} in`);
        void pairing.ready().then(() => this.#admit(runtime, message));
      },
    );
  }

  #admit(runtime: AccountRuntime, message: InboundMessage): void {
    const { logger, pairing } = this.#options;
    const key = runtime.key;
    runtime.status.lastInboundAt = Date.now();
    const decision = decideAccess(message, runtime.policy, (senderId) =>
      pairing.isApproved(message.channel, message.accountId, senderId),
    );
    const chatKey = `${key}:${message.peer}:${message.threadId ?? ""}`;
    switch (decision.action) {
      case "drop":
        logger.debug(`${key}: message from ${message.sender.id} dropped: ${decision.reason}`);
        return;
      case "pair":
        this.#pair(runtime, message).catch((error: Error) =>
          logger.error({ err: error }, `${key}: pairing request from ${message.sender.id} failed: ${error.message}`),
        );
        return;
      case "context": {
        const limit = runtime.config.historyLimit ?? 20;
        if (limit === 0 || !message.text) return;
        const lines = this.#history.get(chatKey) ?? [];
        lines.push(`${senderLabel(message.sender)}: ${message.text}`);
        this.#history.set(chatKey, lines.slice(-limit));
        return;
      }
      case "process":
        this.#debounce(runtime, chatKey, message);
    }
  }

  #debounce(runtime: AccountRuntime, chatKey: string, message: InboundMessage): void {
    const burstKey = `${chatKey}:${message.sender.id}`;
    const burst = this.#bursts.get(burstKey);
    const debounceMs = runtime.config.debounceMs ?? 500;
    if (burst) clearTimeout(burst.timer);
    const messages = [...(burst?.messages ?? []), message];
    const flush = () => {
      this.#bursts.delete(burstKey);
      this.#dispatch(runtime, chatKey, messages).catch((error: Error) =>
        this.#options.logger.error({ err: error }, `${runtime.key}: a message from ${message.sender.id} failed`),
      );
    };
    if (debounceMs === 0) {
      flush();
      return;
    }
    this.#bursts.set(burstKey, { messages, timer: setTimeout(flush, debounceMs) });
  }

  async #pair(runtime: AccountRuntime, message: InboundMessage): Promise<void> {
    const { logger, pairing } = this.#options;
    const outcome = await pairing.request(message.channel, message.accountId, message.sender, message.peer);
    if (outcome.kind === "limited") {
      logger.warn(
        `${runtime.key}: ${PAIRING_PENDING_PER_ACCOUNT} pairing requests are pending; ${message.sender.id} gets no code until one is approved or expires (gateway pairing list ${message.channel})`,
      );
      return;
    }
    if (outcome.kind === "pending") return;
    const { code } = outcome.request;
    logger.info(
      `${runtime.key}: pairing request from ${senderLabel(message.sender)} (${message.sender.id}) — approve with: gateway pairing approve ${message.channel} ${code}`,
    );
    await this.#options
      .send(runtime, {
        peer: message.peer,
        text: `I don't know you yet, so your message was not passed on.\n\nYour pairing code: ${code}\n\nAsk the owner of this gateway to approve it:\ngateway pairing approve ${message.channel} ${code}\n\n(The code expires in 1 hour.)`,
      })
      .catch((error: Error) => logger.warn(`${runtime.key}: could not send the pairing code: ${error.message}`));
  }

  async #dispatch(runtime: AccountRuntime, chatKey: string, messages: InboundMessage[]): Promise<void> {
    const last = messages.at(-1)!;
    const group = last.chatType !== "direct";
    const context = this.#history.get(chatKey);
    this.#history.delete(chatKey);
    const parts = messages.map((message) =>
      [
        group ? `${senderLabel(message.sender)}: ${message.text}` : message.text,
        ...(message.media ?? []).map(mediaLine),
      ]
        .filter(Boolean)
        .join("\n"),
    );
    const text = [
      ...(context?.length ? ["[Earlier messages in this chat, not addressed to you]", ...context, "[Now]"] : []),
      ...parts,
    ].join("\n");
    const typing = this.#typing(runtime, last);
    let reply: string | undefined;
    try {
      reply = await this.#options.host.run({ inbound: last, text });
    } catch (error) {
      this.#options.logger.error(
        { err: error },
        `${runtime.key}: the agent failed on a message from ${last.sender.id}`,
      );
      reply = `Sorry, something went wrong on my side: ${(error as Error).message}`;
    } finally {
      typing();
    }
    if (!reply?.trim()) return;
    await this.#options
      .send(runtime, {
        peer: last.peer,
        text: reply,
        ...(last.threadId ? { threadId: last.threadId } : {}),
        replyToMessageId: last.messageId,
      })
      .catch((error: Error) =>
        this.#options.logger.warn(`${runtime.key}: the reply to ${last.peer} could not be sent: ${error.message}`),
      );
  }

  /** "typing…" in the chat until the returned function is called (where the platform has it). */
  #typing(runtime: AccountRuntime, message: InboundMessage): () => void {
    const account = runtime.account;
    if (!account?.sendTyping || !runtime.plugin.capabilities.typing) return () => {};
    const send = () =>
      void account
        .sendTyping?.(message.peer, message.threadId)
        .catch((error: Error) => this.#options.logger.debug(`typing indicator failed: ${error.message}`));
    send();
    const timer = setInterval(send, TYPING_INTERVAL_MS);
    return () => clearInterval(timer);
  }

  /** Drop waiting bursts (shutdown). */
  stop(): void {
    for (const burst of this.#bursts.values()) clearTimeout(burst.timer);
    this.#bursts.clear();
  }
}
