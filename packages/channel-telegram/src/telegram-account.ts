import { createHmac } from "node:crypto";
import { mkdir, writeFile } from "node:fs/promises";
import { extname, join } from "node:path";
import {
  ChannelAccountBase,
  type ChannelContext,
  ChannelError,
  ChannelNetworkError,
  ChannelPlatformError,
  ChannelPluginError,
  chunkText,
  type MediaRef,
  type OutboundMessage,
  Pacer,
  retry,
  type SendResult,
  toChannelError,
} from "@gateway/plugin-sdk";
import { Bot, GrammyError, HttpError } from "grammy";
import type { Message, Update, UserFromGetMe } from "grammy/types";
import type { TelegramAccountConfig } from "./config.js";
import { markdownToTelegramHtml } from "./format.js";
import { nativeFetch } from "./native-fetch.js";
import { type NormalizedMessage, normalizeMessage } from "./normalize.js";

/** Telegram's limit per text message. */
export const TELEGRAM_TEXT_LIMIT = 4096;
const DEFAULT_API_ROOT = "https://api.telegram.org";
const ALLOWED_UPDATES = ["message", "channel_post"] as const;
/** grammY types its signals with the abort-controller polyfill; Node's own AbortSignal is what it gets at runtime. */
type GrammySignal = NonNullable<Parameters<Bot["api"]["getMe"]>[0]>;
const forGrammy = (signal: AbortSignal) => signal as unknown as GrammySignal;

/**
 * What went wrong, as a ChannelError: the Bot API answered (401 and 409 fatal with the fix, 429 with `retry_after`,
 * other 4xx not worth retrying), the network failed (retried), or something else threw.
 */
export function classifyTelegramError(operation: string, error: unknown, apiRoot: string): ChannelError {
  if (ChannelError.isInstance(error)) return error;
  if (error instanceof GrammyError) {
    const code = error.error_code;
    const options = { status: code, cause: error };
    if (code === 401)
      return new ChannelPlatformError(
        operation,
        "Telegram rejected the bot token (401 Unauthorized). Check channels.telegram.botToken: copy it again from @BotFather (/mybots → API Token); a revoked token needs a new one.",
        { ...options, fatal: true },
      );
    if (code === 409)
      return new ChannelPlatformError(
        operation,
        error.description.includes("webhook")
          ? "a webhook is set for this bot (409 Conflict) while this account polls: switch the account to mode: webhook, or remove the webhook."
          : "another process is polling this bot token (409 Conflict). Stop the other gateway or bot that uses it (one poller per token), or revoke the token with @BotFather if you do not know where it runs.",
        { ...options, fatal: true },
      );
    if (code === 429) {
      const seconds = error.parameters.retry_after ?? 1;
      return new ChannelPlatformError(operation, `rate limited by Telegram, retry after ${seconds} s`, {
        ...options,
        retryAfterMs: seconds * 1000,
      });
    }
    return new ChannelPlatformError(operation, `${code}: ${error.description}`, { ...options, fatal: code < 500 });
  }
  if (error instanceof HttpError) {
    const failure = error.error as { message?: string; cause?: { code?: string; message?: string } } | undefined;
    const cause = failure?.cause?.code ?? failure?.cause?.message ?? failure?.message ?? String(failure);
    return new ChannelNetworkError(operation, `cannot reach the Telegram Bot API at ${apiRoot}: ${cause}`, {
      cause: error,
    });
  }
  return toChannelError(operation, error);
}

/**
 * One bot: long polling with reconnects (or a webhook on the gateway's port), inbound messages normalized with their
 * media downloaded to the state dir, replies chunked to 4096 characters and paced to Telegram's limits (1/s per chat,
 * 20/min per group, 30/s overall) with retries that honour `retry_after`.
 */
export class TelegramAccount extends ChannelAccountBase<TelegramAccountConfig> {
  readonly #apiRoot: string;
  readonly #pacer = new Pacer({
    globalPerSecond: 30,
    perChatIntervalMs: (chat) => (chat.startsWith("-") ? 3_000 : 1_000),
  });
  #bot: Bot | undefined;
  #me: UserFromGetMe | undefined;
  #offset = 0;

  constructor(accountId: string, config: TelegramAccountConfig) {
    super(accountId, config);
    this.#apiRoot = (config.apiRoot ?? DEFAULT_API_ROOT).replace(/\/+$/, "");
  }

  protected override classify(operation: string, error: unknown): ChannelError {
    return classifyTelegramError(operation, error, this.#apiRoot);
  }

  protected async connect(context: ChannelContext, signal: AbortSignal): Promise<void> {
    const token = this.config.botToken;
    const mode = this.config.mode ?? "polling";
    context.setStatus({ configured: Boolean(token), mode });
    if (!token)
      throw new ChannelPluginError(
        "start",
        `no bot token: set channels.telegram${this.accountId === "default" ? "" : `.accounts.${this.accountId}`}.botToken (create a bot with @BotFather)`,
        { fatal: true },
      );
    const pollTimeout = this.config.pollTimeoutSeconds ?? 30;
    const bot = new Bot(token, {
      client: {
        apiRoot: this.#apiRoot,
        timeoutSeconds: Math.max(60, pollTimeout + 15),
        fetch: nativeFetch as never,
      },
    });
    bot.on(["message", "channel_post"], (update) => this.#onMessage(update.msg));
    bot.catch((error) => context.logger.warn({ err: error.error }, "telegram: handling an update failed"));
    // getMe directly: grammY's bot.init() retries network errors forever, and a start must fail so it is retried
    // with backoff and shown in status.
    bot.botInfo = await this.#call("getMe", () => bot.api.getMe(forGrammy(signal)));
    this.#bot = bot;
    this.#me = bot.botInfo;
    if (mode === "webhook") await this.#startWebhook(context, bot, token);
    else await this.#startPolling(bot, pollTimeout, signal);
    context.logger.info(`telegram: @${bot.botInfo.username} connected (${mode})`);
  }

  protected async disconnect(): Promise<void> {
    const bot = this.#bot;
    // Confirm what was handled, so the next start does not see it again (best effort, never blocks a stop).
    if (bot && (this.config.mode ?? "polling") === "polling" && this.#offset) {
      await bot.api
        .getUpdates({ offset: this.#offset, limit: 1, timeout: 0 }, forGrammy(AbortSignal.timeout(2_000)))
        .catch(() => undefined);
    }
    this.#bot = undefined;
  }

  async #startPolling(bot: Bot, pollTimeout: number, signal: AbortSignal) {
    await this.#call("deleteWebhook", () => bot.api.deleteWebhook({ drop_pending_updates: false }, forGrammy(signal)));
    // One poll now, so a token another process polls (409) fails the start instead of the first reconnect.
    const first = await this.#poll(bot, 0, signal);
    await this.#handleUpdates(bot, first);
    this.supervise(
      async (loopSignal, connected) => {
        for (;;) {
          const updates = await this.#poll(bot, pollTimeout, loopSignal).catch((error: unknown) => {
            if (loopSignal.aborted) return undefined;
            throw error;
          });
          if (!updates) return;
          connected();
          await this.#handleUpdates(bot, updates);
        }
      },
      { baseMs: 500, maxMs: 30_000 },
    );
  }

  #poll(bot: Bot, timeout: number, signal: AbortSignal): Promise<Update[]> {
    return this.#call("getUpdates", () =>
      bot.api.getUpdates(
        { offset: this.#offset, limit: 100, timeout, allowed_updates: [...ALLOWED_UPDATES] },
        forGrammy(signal),
      ),
    );
  }

  async #handleUpdates(bot: Bot, updates: Update[]) {
    for (const update of updates) {
      this.#offset = update.update_id + 1;
      await bot.handleUpdate(update);
    }
  }

  async #startWebhook(context: ChannelContext, bot: Bot, token: string) {
    const webhook = this.config.webhook;
    if (!webhook?.url)
      throw new ChannelPluginError(
        "setWebhook",
        "webhook mode needs channels.telegram.webhook.url (your public https URL)",
        { fatal: true },
      );
    const secret =
      webhook.secret ?? createHmac("sha256", token).update("gateway-telegram-webhook").digest("base64url").slice(0, 64);
    const path = context.registerHttpRoute({
      method: "POST",
      path: "webhook",
      handle: async (request) => {
        if (request.headers.get("x-telegram-bot-api-secret-token") !== secret)
          return Response.json({ error: "wrong secret token" }, { status: 401 });
        const update = (await request.json().catch(() => undefined)) as Update | undefined;
        if (!update || typeof update.update_id !== "number")
          return Response.json({ error: "not a Telegram update" }, { status: 400 });
        bot.handleUpdate(update).catch((error: unknown) => context.logger.warn({ err: error }, "telegram: update"));
        return Response.json({});
      },
    });
    await this.#call("setWebhook", () =>
      bot.api.setWebhook(webhook.url, {
        secret_token: secret,
        allowed_updates: [...ALLOWED_UPDATES],
        drop_pending_updates: false,
      }),
    );
    context.logger.info(`telegram: webhook ${webhook.url} → local path ${path}`);
  }

  async #onMessage(message: Message) {
    const context = this.context;
    if (!this.#me) return;
    const normalized = normalizeMessage(message, this.#me);
    if (!normalized) return;
    const media = await this.#downloadMedia(message).catch((error: unknown) => {
      context.logger.warn({ err: error }, "telegram: could not download a file");
      return [] as MediaRef[];
    });
    const inbound: NormalizedMessage = media.length ? { ...normalized, media } : normalized;
    this.markInbound();
    context.receive(inbound);
  }

  /** The largest photo size or the document, saved under `<state>/media/`; too large ones are listed unsaved. */
  async #downloadMedia(message: Message): Promise<MediaRef[]> {
    const bot = this.#bot;
    const context = this.context;
    if (!bot) return [];
    const photo = message.photo?.at(-1);
    const document = message.document;
    const file = photo ?? document;
    if (!file) return [];
    const reference: MediaRef = {
      kind: photo ? "photo" : "document",
      ...(document?.mime_type ? { mimeType: document.mime_type } : photo ? { mimeType: "image/jpeg" } : {}),
      ...(document?.file_name ? { fileName: document.file_name } : {}),
      ...(file.file_size !== undefined ? { size: file.file_size } : {}),
    };
    const maxBytes = (this.config.mediaMaxMb ?? 20) * 1024 * 1024;
    if ((file.file_size ?? 0) > maxBytes) return [reference];
    const info = await bot.api.getFile(file.file_id);
    if (!info.file_path) return [reference];
    const response = await fetch(`${this.#apiRoot}/file/bot${this.config.botToken}/${info.file_path}`, {
      signal: AbortSignal.timeout(60_000),
    });
    if (!response.ok) throw new Error(`file download answered ${response.status}`);
    const content = Buffer.from(await response.arrayBuffer());
    if (content.length > maxBytes) return [reference];
    const directory = join(context.stateDir, "media");
    await mkdir(directory, { recursive: true, mode: 0o700 });
    const extension = extname(document?.file_name ?? info.file_path) || (photo ? ".jpg" : "");
    const path = join(directory, `${message.date}-${file.file_unique_id}${extension}`);
    await writeFile(path, content, { mode: 0o600 });
    return [{ ...reference, path, size: content.length }];
  }

  sendText(message: OutboundMessage): Promise<SendResult> {
    const chunks = chunkText(message.text, TELEGRAM_TEXT_LIMIT);
    // Markdown becomes Telegram HTML; a chunk Telegram cannot parse goes again as plain text.
    return this.#sendEach("sendMessage", message, chunks, async (bot, chunk, extra) => {
      try {
        return await bot.api.sendMessage(message.peer, markdownToTelegramHtml(chunk), { ...extra, parse_mode: "HTML" });
      } catch (error) {
        if (!(error instanceof GrammyError && error.error_code === 400 && /parse entities/i.test(error.description)))
          throw error;
        this.context.logger.debug(`telegram: sending a chunk as plain text (${error.description})`);
        return bot.api.sendMessage(message.peer, chunk, extra);
      }
    });
  }

  async sendTyping(peer: string, threadId?: string): Promise<void> {
    const bot = this.#requireBot("sendChatAction");
    await this.#call("sendChatAction", () =>
      bot.api.sendChatAction(peer, "typing", threadId ? { message_thread_id: Number(threadId) } : {}),
    );
  }

  async probe(): Promise<{ ok: boolean; detail?: string }> {
    const bot = this.#bot;
    if (!bot) return { ok: false, detail: "not running" };
    try {
      const me = await bot.api.getMe(forGrammy(AbortSignal.timeout(10_000)));
      return { ok: true, detail: `@${me.username}` };
    } catch (error) {
      return { ok: false, detail: classifyTelegramError("getMe", error, this.#apiRoot).message };
    }
  }

  /** A Bot API call whose failure is a ChannelError saying what to do. */
  async #call<T>(operation: string, fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (error) {
      throw classifyTelegramError(operation, error, this.#apiRoot);
    }
  }

  #requireBot(operation: string): Bot {
    if (!this.#bot) throw new ChannelPluginError(operation, "the Telegram account is not running", { fatal: true });
    return this.#bot;
  }

  /** Send the parts in order, each paced and retried; the first replies to the message it answers. */
  async #sendEach(
    operation: string,
    message: OutboundMessage,
    parts: string[],
    send: (bot: Bot, part: string, extra: Record<string, unknown>) => Promise<{ message_id: number }>,
  ): Promise<SendResult> {
    const bot = this.#requireBot(operation);
    const ids: string[] = [];
    for (const [index, part] of parts.entries()) {
      const extra: Record<string, unknown> = {
        ...(message.threadId ? { message_thread_id: Number(message.threadId) } : {}),
        ...(index === 0 && message.replyToMessageId
          ? { reply_parameters: { message_id: Number(message.replyToMessageId), allow_sending_without_reply: true } }
          : {}),
      };
      await this.#pacer.wait(message.peer);
      const sent = await retry(() => this.#call(operation, () => send(bot, part, extra)), {
        attempts: 4,
        baseMs: 1_000,
      });
      ids.push(String(sent.message_id));
    }
    this.markOutbound();
    return { messageId: ids[0] ?? "", messageIds: ids };
  }
}
