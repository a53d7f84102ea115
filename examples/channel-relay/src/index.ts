// A complete channel plugin in one file: "Relay", a small HTTP chat service with long polling.
//   GET  {url}/v1/updates?after=<id>&wait=<seconds>   → { updates: [{ id, chat, from: { id, name }, text, ts }] }
//   POST {url}/v1/messages { chat, text }             → { id }
// Every request carries `Authorization: Bearer <token>`; a wrong token is 401. A message holds at most 500 characters.
import {
  type ChannelAccount,
  type ChannelContext,
  ChannelError,
  chunkText,
  defineChannelPlugin,
  Pacer,
  ReconnectSupervisor,
  retry,
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

/** One relay bot: polls for messages (reconnecting after outages), sends chunked and paced replies. */
class RelayAccount implements ChannelAccount {
  #context: ChannelContext | undefined;
  #supervisor: ReconnectSupervisor | undefined;
  #starting: Promise<void> | undefined;
  #after = 0;
  #connected = false;
  readonly #pacer = new Pacer({ perChatIntervalMs: 100 });

  constructor(private readonly config: RelayConfig) {}

  /** One HTTP call; failures become ChannelErrors that say whether retrying helps. */
  async #call<T>(operation: string, path: string, init: RequestInit = {}): Promise<T> {
    let response: Response;
    try {
      response = await fetch(new URL(path, this.config.url), {
        ...init,
        headers: { authorization: `Bearer ${this.config.token}`, "content-type": "application/json" },
      });
    } catch (error) {
      throw new ChannelError(operation, `cannot reach ${this.config.url}: ${(error as Error).message}`, {
        cause: error,
      });
    }
    if (response.status === 401)
      throw new ChannelError(operation, "the relay refused the token (401): check channels.relay.token", {
        fatal: true,
      });
    if (!response.ok) throw new ChannelError(operation, `the relay answered ${response.status}`);
    return (await response.json()) as T;
  }

  start(context: ChannelContext): Promise<void> {
    this.#starting ??= this.#start(context).catch((error: unknown) => {
      this.#starting = undefined;
      context.setStatus({
        running: false,
        connected: false,
        fatal: error instanceof ChannelError && error.fatal,
        lastError: (error as Error).message,
      });
      throw error;
    });
    return this.#starting;
  }

  async #start(context: ChannelContext): Promise<void> {
    this.#context = context;
    context.setStatus({ configured: true, mode: "polling" });
    await this.#poll(0); // fails the start on a bad token or an unreachable relay
    this.#connected = true;
    this.#supervisor = new ReconnectSupervisor(
      async (signal, connected) => {
        while (!signal.aborted) {
          await this.#poll(this.config.waitSeconds ?? 25, signal);
          if (!this.#connected) {
            this.#connected = true;
            connected();
            context.setStatus({ connected: true, reconnectAttempts: 0, lastError: null, lastConnectedAt: Date.now() });
          }
        }
      },
      {
        onAttempt: (attempt, error) => {
          this.#connected = false;
          context.setStatus({ connected: false, reconnectAttempts: attempt, lastError: error.message });
        },
        onFatal: (error) => {
          context.setStatus({ connected: false, running: false, fatal: true, lastError: error.message });
          context.reportError(error);
        },
      },
    );
    this.#supervisor.start();
    context.setStatus({ running: true, connected: true, fatal: false, lastError: null, lastConnectedAt: Date.now() });
  }

  async #poll(waitSeconds: number, signal?: AbortSignal): Promise<void> {
    const path = `/v1/updates?after=${this.#after}&wait=${waitSeconds}`;
    const { updates } = await this.#call<{ updates: RelayUpdate[] }>(
      "getUpdates",
      path,
      signal ? { signal } : {},
    ).catch((error: unknown) => {
      if (signal?.aborted) return { updates: [] };
      throw error;
    });
    for (const update of updates) {
      this.#after = Math.max(this.#after, update.id);
      this.#context?.setStatus({ lastInboundAt: Date.now() });
      this.#context?.receive({
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

  async stop(): Promise<void> {
    await this.#supervisor?.stop();
    this.#supervisor = undefined;
    this.#starting = undefined;
    this.#connected = false;
    this.#context?.setStatus({ running: false, connected: false });
  }

  async sendText(message: { peer: string; text: string }) {
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
    this.#context?.setStatus({ lastOutboundAt: Date.now() });
    return { messageId: ids[0] ?? "", messageIds: ids };
  }
}

/** The plugin: what the package exports by default. */
export default defineChannelPlugin<RelayConfig>({
  id: "relay",
  meta: { label: "Relay (example)", docs: "https://example.invalid/relay" },
  capabilities: {
    chatTypes: ["direct"],
    media: false,
    reactions: false,
    edit: false,
    threads: false,
    typing: false,
    maxTextLength: RELAY_TEXT_LIMIT,
  },
  configSchema: RelayConfig,
  createAccount: (_accountId, config) => new RelayAccount(config),
});
