import { randomBytes } from "node:crypto";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { Socket } from "node:net";

/** A Telegram user or bot as the Bot API shows it. */
export interface FakeTelegramUser {
  id: number;
  is_bot: boolean;
  first_name: string;
  username?: string;
}

/** A chat as the Bot API shows it. */
export interface FakeTelegramChat {
  id: number;
  type: "private" | "group" | "supergroup" | "channel";
  title?: string;
  first_name?: string;
  is_forum?: boolean;
}

/** What a test injects: the fake fills in message_id, date and update_id. */
export interface FakeInbound {
  chat: FakeTelegramChat;
  from: FakeTelegramUser;
  text?: string;
  caption?: string;
  entities?: Array<{ type: string; offset: number; length: number; user?: FakeTelegramUser }>;
  message_thread_id?: number;
  is_topic_message?: boolean;
  reply_to_message?: Record<string, unknown>;
  photo?: Array<{ file_id: string; file_unique_id: string; width: number; height: number; file_size?: number }>;
  document?: { file_id: string; file_unique_id: string; file_name?: string; mime_type?: string; file_size?: number };
}

/** One recorded Bot API call. */
export interface FakeTelegramCall {
  token: string;
  method: string;
  params: Record<string, unknown>;
  at: number;
}

/** A scripted failure of the next call(s) to a method. */
export interface FakeTelegramFailure {
  /** HTTP status and Bot API error_code (401, 409, 429, 500…). */
  status: number;
  description?: string;
  /** For 429: `parameters.retry_after` in seconds. */
  retryAfter?: number;
  /** How many calls fail. @default 1 */
  times?: number;
}

/** The fake and its controls. */
export interface FakeTelegram {
  /** `http://127.0.0.1:<port>` — grammY's `client.apiRoot` (no trailing slash). */
  readonly apiRoot: string;
  /** Every call, in order (all tokens). */
  readonly calls: FakeTelegramCall[];
  /** Add a bot; calls with any other token get 401 Unauthorized. Returns its token. */
  addBot(username: string, token?: string): string;
  /** The bot's user object. */
  bot(token: string): FakeTelegramUser;
  /** Revoke a token: every later call with it gets 401. */
  revoke(token: string): void;
  /** Deliver a message to the bot: queued for getUpdates, or POSTed to its webhook when one is set. */
  inject(token: string, message: FakeInbound): Promise<{ update_id: number; message_id: number }>;
  /** Make the next call(s) to `method` fail (any token). */
  failNext(method: string, failure: FakeTelegramFailure): void;
  /** Store a file; returns its file_id (getFile + download serve it). */
  addFile(content: Buffer, filePath?: string): { file_id: string; file_unique_id: string; file_size: number };
  /** Messages the bots sent (sendMessage), in order, with the message_id the fake gave each. */
  sent(token?: string): Array<{
    token: string;
    chat_id: number | string;
    /** The text as the chat shows it (HTML tags parsed away, entities decoded). */
    text: string;
    parse_mode?: string;
    /** What the bot sent, when it used a parse mode. */
    raw?: string;
    message_id: number;
    message_thread_id?: number;
    reply_to_message_id?: number;
  }>;
  /** Resolve when `check` holds. */
  until(check: () => boolean, ms?: number): Promise<void>;
  /** Stop answering: the listener closes and every open connection (held getUpdates too) is cut. */
  goDown(): Promise<void>;
  /** Listen again on the same port. */
  comeBack(): Promise<void>;
  close(): Promise<void>;
}

interface BotState {
  user: FakeTelegramUser;
  revoked: boolean;
  updates: Array<{ update_id: number } & Record<string, unknown>>;
  webhook: { url: string; secret?: string } | undefined;
  waiters: Set<() => void>;
  /** Ends the getUpdates being held with 409 (a second poller arrived). */
  terminateHeld: (() => void) | undefined;
}

/**
 * A fake of the Telegram Bot API on 127.0.0.1, driven by the real grammY: getMe, deleteWebhook/setWebhook,
 * getUpdates held until an update or its `timeout`, sendMessage, sendChatAction, getFile + file download, 401 for an
 * unknown or revoked token, 409 when two processes poll one token, scripted failures (429 with retry_after, 5xx), and
 * an outage on demand (`goDown`/`comeBack` on the same port).
 */
export async function startFakeTelegram(options: { port?: number } = {}): Promise<FakeTelegram> {
  const bots = new Map<string, BotState>();
  const calls: FakeTelegramCall[] = [];
  const failures = new Map<string, FakeTelegramFailure[]>();
  const files = new Map<string, { path: string; content: Buffer; unique: string }>();
  const sent: ReturnType<FakeTelegram["sent"]> = [];
  const sockets = new Set<Socket>();
  let nextUpdateId = 1000;
  let nextMessageId = 1;
  let nextBotId = 7_000_000_000;

  const reply = (response: ServerResponse, status: number, body: unknown) => {
    if (response.headersSent || response.destroyed) return;
    response.writeHead(status, { "content-type": "application/json" }).end(JSON.stringify(body));
  };
  const fail = (response: ServerResponse, status: number, description: string, retryAfter?: number) =>
    reply(response, status, {
      ok: false,
      error_code: status,
      description,
      ...(retryAfter !== undefined ? { parameters: { retry_after: retryAfter } } : {}),
    });

  async function readParams(request: IncomingMessage): Promise<Record<string, unknown>> {
    let raw = "";
    for await (const chunk of request) raw += chunk;
    const type = request.headers["content-type"] ?? "";
    if (!raw) return {};
    if (type.includes("application/json")) return JSON.parse(raw) as Record<string, unknown>;
    if (type.includes("x-www-form-urlencoded")) return Object.fromEntries(new URLSearchParams(raw));
    // multipart (grammY uses it for uploads): keep the text fields only.
    const fields: Record<string, unknown> = {};
    for (const match of raw.matchAll(/name="([^"]+)"\r\n\r\n([^\r]*)\r\n/g)) fields[match[1]!] = match[2];
    return fields;
  }

  async function handle(request: IncomingMessage, response: ServerResponse) {
    const url = new URL(request.url ?? "/", "http://fake");
    const download = /^\/file\/bot([^/]+)\/(.+)$/.exec(url.pathname);
    if (download) {
      const bot = bots.get(download[1]!);
      const file = [...files.values()].find((entry) => entry.path === download[2]);
      if (!bot || bot.revoked) return fail(response, 401, "Unauthorized");
      if (!file) return fail(response, 404, "Not Found");
      response.writeHead(200, { "content-type": "application/octet-stream" }).end(file.content);
      return;
    }
    const match = /^\/bot([^/]+)\/([A-Za-z]+)$/.exec(url.pathname);
    if (!match) return fail(response, 404, "Not Found");
    const [, token, method] = match as unknown as [string, string, string];
    const params = await readParams(request);
    calls.push({ token, method, params, at: Date.now() });
    const bot = bots.get(token);
    if (!bot || bot.revoked) return fail(response, 401, "Unauthorized");
    const scripted = failures.get(method);
    if (scripted?.length) {
      const failure = scripted[0]!;
      failure.times = (failure.times ?? 1) - 1;
      if (failure.times <= 0) scripted.shift();
      const description =
        failure.description ??
        (failure.status === 429
          ? `Too Many Requests: retry after ${failure.retryAfter ?? 1}`
          : failure.status === 409
            ? "Conflict: terminated by other getUpdates request; make sure that only one bot instance is running"
            : "Internal Server Error");
      return fail(response, failure.status, description, failure.retryAfter);
    }
    switch (method) {
      case "getMe":
        return reply(response, 200, {
          ok: true,
          result: { ...bot.user, can_join_groups: true, can_read_all_group_messages: false },
        });
      case "deleteWebhook":
        bot.webhook = undefined;
        if (params.drop_pending_updates) bot.updates = [];
        return reply(response, 200, { ok: true, result: true });
      case "setWebhook":
        bot.webhook = {
          url: String(params.url),
          ...(params.secret_token ? { secret: String(params.secret_token) } : {}),
        };
        return reply(response, 200, { ok: true, result: true });
      case "getWebhookInfo":
        return reply(response, 200, {
          ok: true,
          result: { url: bot.webhook?.url ?? "", pending_update_count: bot.updates.length },
        });
      case "getUpdates":
        return getUpdates(bot, params, request, response);
      case "sendMessage": {
        let visible = String(params.text ?? "");
        if (params.parse_mode === "HTML") {
          const parsed = parseTelegramHtml(visible);
          if (parsed === undefined)
            return fail(response, 400, "Bad Request: can't parse entities: unsupported or unbalanced tag");
          visible = parsed;
        }
        const message_id = nextMessageId++;
        const chatId = params.chat_id as number | string;
        const replyTo = (params.reply_parameters as { message_id?: number } | undefined)?.message_id;
        sent.push({
          token,
          chat_id: chatId,
          text: visible,
          ...(params.parse_mode ? { parse_mode: String(params.parse_mode), raw: String(params.text) } : {}),
          message_id,
          ...(params.message_thread_id !== undefined ? { message_thread_id: Number(params.message_thread_id) } : {}),
          ...(replyTo !== undefined ? { reply_to_message_id: replyTo } : {}),
        });
        return reply(response, 200, {
          ok: true,
          result: {
            message_id,
            date: Math.floor(Date.now() / 1000),
            chat: { id: Number(chatId), type: Number(chatId) < 0 ? "supergroup" : "private" },
            from: bot.user,
            text: visible,
          },
        });
      }
      case "sendChatAction":
        return reply(response, 200, { ok: true, result: true });
      case "getFile": {
        const file = files.get(String(params.file_id));
        if (!file) return fail(response, 400, "Bad Request: invalid file_id");
        return reply(response, 200, {
          ok: true,
          result: {
            file_id: params.file_id,
            file_unique_id: file.unique,
            file_size: file.content.length,
            file_path: file.path,
          },
        });
      }
      default:
        return fail(response, 404, `Not Found: method ${method} is not in the fake`);
    }
  }

  async function getUpdates(
    bot: BotState,
    params: Record<string, unknown>,
    request: IncomingMessage,
    response: ServerResponse,
  ) {
    if (bot.webhook) return fail(response, 409, "Conflict: can't use getUpdates method while webhook is active");
    // Like Telegram: a newer getUpdates terminates the one still held, which gets 409 (two processes polling).
    bot.terminateHeld?.();
    const offset = Number(params.offset ?? 0);
    if (offset) bot.updates = bot.updates.filter((update) => update.update_id >= offset);
    const limit = Math.min(100, Number(params.limit ?? 100));
    const timeoutMs = Math.max(0, Number(params.timeout ?? 0)) * 1000;
    if (bot.updates.length === 0 && timeoutMs > 0) {
      const terminated = await new Promise<boolean>((resolve) => {
        const done = (conflict: boolean) => {
          clearTimeout(timer);
          bot.waiters.delete(wake);
          request.off("close", wake);
          if (bot.terminateHeld === terminate) bot.terminateHeld = undefined;
          resolve(conflict);
        };
        const wake = () => done(false);
        const terminate = () => done(true);
        const timer = setTimeout(wake, timeoutMs);
        bot.waiters.add(wake);
        bot.terminateHeld = terminate;
        request.on("close", wake);
      });
      if (terminated) {
        return fail(
          response,
          409,
          "Conflict: terminated by other getUpdates request; make sure that only one bot instance is running",
        );
      }
    }
    reply(response, 200, { ok: true, result: bot.updates.slice(0, limit) });
  }

  const server: Server = createServer((request, response) => {
    handle(request, response).catch((error: Error) => fail(response, 500, `fake failed: ${error.message}`));
  });
  server.on("connection", (socket) => {
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
  });
  const listen = (port: number) =>
    new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen(port, "127.0.0.1", () => {
        server.off("error", reject);
        resolve();
      });
    });
  await listen(options.port ?? 0);
  const port = (server.address() as { port: number }).port;
  const down = () =>
    new Promise<void>((resolve) => {
      for (const socket of sockets) socket.destroy();
      server.close(() => resolve());
      for (const bot of bots.values()) for (const wake of [...bot.waiters]) wake();
    });

  const fake: FakeTelegram = {
    apiRoot: `http://127.0.0.1:${port}`,
    calls,
    addBot(username, token) {
      const id = nextBotId++;
      const key = token ?? `${id}:${randomBytes(17).toString("base64url")}`;
      bots.set(key, {
        user: { id, is_bot: true, first_name: username, username },
        revoked: false,
        updates: [],
        webhook: undefined,
        waiters: new Set(),
        terminateHeld: undefined,
      });
      return key;
    },
    bot(token) {
      const bot = bots.get(token);
      if (!bot) throw new Error(`no fake bot with token ${token}`);
      return bot.user;
    },
    revoke(token) {
      const bot = bots.get(token);
      if (bot) bot.revoked = true;
    },
    async inject(token, message) {
      const bot = bots.get(token);
      if (!bot) throw new Error(`no fake bot with token ${token}`);
      const update_id = nextUpdateId++;
      const message_id = nextMessageId++;
      const update = {
        update_id,
        [message.chat.type === "channel" ? "channel_post" : "message"]: {
          message_id,
          date: Math.floor(Date.now() / 1000),
          ...message,
        },
      };
      if (bot.webhook) {
        const response = await fetch(bot.webhook.url, {
          method: "POST",
          headers: {
            "content-type": "application/json",
            ...(bot.webhook.secret ? { "x-telegram-bot-api-secret-token": bot.webhook.secret } : {}),
          },
          body: JSON.stringify(update),
        });
        if (!response.ok) throw new Error(`webhook answered ${response.status}: ${await response.text()}`);
        return { update_id, message_id };
      }
      bot.updates.push(update);
      for (const wake of [...bot.waiters]) wake();
      return { update_id, message_id };
    },
    failNext(method, failure) {
      failures.set(method, [...(failures.get(method) ?? []), { ...failure }]);
    },
    addFile(content, filePath) {
      const file_id = `file-${randomBytes(6).toString("hex")}`;
      const unique = `u${randomBytes(4).toString("hex")}`;
      files.set(file_id, { path: filePath ?? `documents/${file_id}.bin`, content, unique });
      return { file_id, file_unique_id: unique, file_size: content.length };
    },
    sent: (token) => (token ? sent.filter((message) => message.token === token) : [...sent]),
    async until(check, ms = 5_000) {
      const deadline = Date.now() + ms;
      while (!check()) {
        if (Date.now() > deadline) throw new Error(`fake telegram: condition not met within ${ms} ms`);
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
    },
    goDown: down,
    comeBack: () => listen(port),
    close: down,
  };
  return fake;
}

const TELEGRAM_TAGS = new Set([
  "b",
  "strong",
  "i",
  "em",
  "u",
  "ins",
  "s",
  "strike",
  "del",
  "code",
  "pre",
  "a",
  "tg-spoiler",
  "blockquote",
]);

/** The visible text of Telegram HTML, or undefined where Telegram answers "can't parse entities". */
function parseTelegramHtml(html: string): string | undefined {
  const open: string[] = [];
  for (const match of html.matchAll(/<(\/?)([a-z-]+)(?:\s[^>]*)?>|<|&(?!amp;|lt;|gt;|quot;)/g)) {
    if (match[0] === "<" || match[0] === "&") return undefined;
    const [, closing, tag] = match as unknown as [string, string, string];
    if (!TELEGRAM_TAGS.has(tag)) return undefined;
    if (!closing) open.push(tag);
    else if (open.pop() !== tag) return undefined;
  }
  if (open.length) return undefined;
  return html
    .replace(/<[^>]+>/g, "")
    .replaceAll("&lt;", "<")
    .replaceAll("&gt;", ">")
    .replaceAll("&quot;", '"')
    .replaceAll("&amp;", "&");
}
