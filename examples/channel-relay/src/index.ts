// A complete channel plugin in one file: "Relay", a small HTTP chat service with long polling.
//   GET  {url}/v1/updates?after=<id>&wait=<seconds>   → { updates: [{ id, chat, from: { id, name }, text, ts }] }
//   POST {url}/v1/messages { chat, text }             → { id }
// Every request carries `Authorization: Bearer <token>`; a wrong token is 401. A message holds at most 500 characters.
import {
  CHANNEL_SPECIFICATION_VERSION,
  ChannelAccountBase,
  type ChannelContext,
  ChannelNetworkError,
  ChannelPlatformError,
  chunkText,
  defineChannelPlugin,
  type OutboundMessage,
  Pacer,
  retry,
  type SendResult,
} from "@gateway/plugin-sdk";
import { type Static, Type } from "@sinclair/typebox";

/** One account's settings: `channels.relay` in the gateway's config (or `channels.relay.accounts.<name>`). */
export const RelayConfig = Type.Object({
  url: Type.String({ pattern: "^https?://", description: "The relay server, e.g. http://127.0.0.1:8080" }),
  token: Type.String({ minLength: 1, description: "The bot's token on the relay (secret)" }),
  waitSeconds: Type.Optional(Type.Integer({ minimum: 0, maximum: 60, description: "Long-poll wait. @default 25" })),
});
export type RelayConfig = Static<typeof RelayConfig>;

export const RELAY_TEXT_LIMIT = 500;

interface RelayUpdate {
  id: number;
  chat: string;
  from: { id: string; name: string };
  text: string;
  ts: number;
}

/**
 * One relay bot: polls for messages (reconnecting after outages), sends chunked and paced replies. The SDK's
 * ChannelAccountBase does the start/stop/status bookkeeping; this class holds only what is particular to the relay.
 */
class RelayAccount extends ChannelAccountBase<RelayConfig> {
  #after = 0;
  readonly #pacer = new Pacer({ perChatIntervalMs: 100 });

  /** One HTTP call; failures become ChannelErrors that say what failed and whether retrying helps. */
  async #call<T>(operation: string, path: string, init: RequestInit = {}): Promise<T> {
    let response: Response;
    try {
      response = await fetch(new URL(path, this.config.url), {
        ...init,
        headers: { authorization: `Bearer ${this.config.token}`, "content-type": "application/json" },
      });
    } catch (error) {
      throw new ChannelNetworkError(operation, `cannot reach ${this.config.url}: ${(error as Error).message}`, {
        cause: error,
      });
    }
    if (response.status === 401)
      throw new ChannelPlatformError(operation, "the relay refused the token (401): check channels.relay.token", {
        status: 401,
        fatal: true,
      });
    if (!response.ok)
      throw new ChannelPlatformError(operation, `the relay answered ${response.status}`, { status: response.status });
    return (await response.json()) as T;
  }

  protected async connect(context: ChannelContext, signal: AbortSignal): Promise<void> {
    context.setStatus({ mode: "polling" });
    await this.#poll(0, signal); // fails the start on a bad token or an unreachable relay
    this.supervise(async (loopSignal, connected) => {
      while (!loopSignal.aborted) {
        await this.#poll(this.config.waitSeconds ?? 25, loopSignal);
        connected();
      }
    });
  }

  protected async disconnect(): Promise<void> {}

  async #poll(waitSeconds: number, signal: AbortSignal): Promise<void> {
    const path = `/v1/updates?after=${this.#after}&wait=${waitSeconds}`;
    const { updates } = await this.#call<{ updates: RelayUpdate[] }>("getUpdates", path, { signal }).catch(
      (error: unknown) => {
        if (signal.aborted) return { updates: [] };
        throw error;
      },
    );
    for (const update of updates) {
      this.#after = Math.max(this.#after, update.id);
      this.markInbound();
      this.context.receive({
        chatType: "direct",
        peer: update.chat,
        sender: { id: update.from.id, name: update.from.name },
        text: update.text,
        wasMentioned: false,
        messageId: String(update.id),
        timestamp: update.ts,
      });
    }
  }

  async sendText(message: OutboundMessage): Promise<SendResult> {
    const ids: string[] = [];
    for (const chunk of chunkText(message.text, RELAY_TEXT_LIMIT)) {
      await this.#pacer.wait(message.peer);
      const { id } = await retry(() =>
        this.#call<{ id: number }>("sendMessage", "/v1/messages", {
          method: "POST",
          body: JSON.stringify({ chat: message.peer, text: chunk }),
        }),
      );
      ids.push(String(id));
    }
    this.markOutbound();
    return { messageId: ids[0] ?? "", messageIds: ids };
  }
}

/** The plugin: what the package exports by default. */
export default defineChannelPlugin<RelayConfig>({
  specificationVersion: CHANNEL_SPECIFICATION_VERSION,
  id: "relay",
  meta: {
    label: "Relay (example)",
    docs: "https://example.invalid/relay",
    setup: "set channels.relay.url and channels.relay.token",
  },
  capabilities: {
    chatTypes: ["direct"],
    media: false,
    threads: false,
    typing: false,
    maxTextLength: RELAY_TEXT_LIMIT,
  },
  configSchema: RelayConfig,
  createAccount: (accountId, config) => new RelayAccount(accountId, config),
});
