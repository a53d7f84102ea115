import { randomBytes } from "node:crypto";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { Socket } from "node:net";
import { type WebSocket, WebSocketServer } from "ws";

/** A Discord user as the API shows it. */
export interface FakeDiscordUser {
  id: string;
  username: string;
  global_name?: string | null;
  bot?: boolean;
}

/** A bot the fake knows: its token and user. */
export interface FakeDiscordBot {
  token: string;
  user: FakeDiscordUser & { bot: true };
}

/** How a bot is set up in the developer portal. */
export interface FakeDiscordBotOptions {
  token?: string;
  /** The privileged Message Content intent is switched on. Off: an IDENTIFY asking for it is closed with 4014. @default true */
  messageContentIntent?: boolean;
  /** What `GET /gateway/bot` reports; each IDENTIFY uses one. At 0, Discord resets the token (4004). @default 1000 per 24 h */
  sessionStartLimit?: { total?: number; remaining?: number; resetAfterMs?: number };
}

/** A guild of one bot, with its channels by name and the bot's managed role. */
export interface FakeDiscordGuild {
  id: string;
  name: string;
  /** The role Discord gives the bot when it joins (mentioning it mentions the bot). */
  botRoleId: string;
  /** Channel ids by name. */
  channels: Record<string, string>;
}

/** A file a test attaches to an injected message (served by the fake). */
export interface FakeDiscordAttachment {
  id: string;
  filename: string;
  size: number;
  url: string;
  proxy_url: string;
  content_type?: string;
}

/** A message to deliver to a bot over the gateway. */
export interface FakeDiscordMessageInput {
  /** A guild channel, thread or forum post id, or a DM channel id (`dmChannel`). */
  channelId: string;
  author: FakeDiscordUser;
  content: string;
  mentions?: FakeDiscordUser[];
  mentionRoles?: string[];
  /** The message this one replies to (from `inject`/`sent`). */
  replyTo?: { id: string; author: FakeDiscordUser; content?: string };
  attachments?: FakeDiscordAttachment[];
}

/** A message as the fake stored it (injected, or created by a bot over REST). */
export interface FakeDiscordMessage {
  id: string;
  channel_id: string;
  guild_id?: string;
  author: FakeDiscordUser;
  content: string;
  message_reference?: { message_id: string; channel_id: string; guild_id?: string };
  attachments: Array<FakeDiscordAttachment & { data?: Buffer }>;
  timestamp: string;
}

/** One recorded REST call. */
export interface FakeDiscordCall {
  method: string;
  /** Without `/api/v10`. */
  path: string;
  token: string | undefined;
  body: unknown;
  status: number;
  at: number;
}

/** One recorded gateway event (what the client sent, or what the fake did). */
export interface FakeDiscordGatewayEntry {
  at: number;
  connection: number;
  token?: string;
  kind: "open" | "identify" | "resume" | "ready" | "resumed" | "invalid-session" | "reconnect" | "close";
  code?: number;
  path?: string;
}

/** How the fake flaps: every connection is cut this long after it became ready. */
export interface FakeDiscordFlapping {
  closeAfterMs: number;
  /** The close code; 1006 cuts the socket without a close frame. @default 1006 */
  code?: number;
  /** Forget the session too, so the next RESUME gets op 9 and the client must IDENTIFY. @default false */
  invalidateSession?: boolean;
}

/** The fake and its controls. */
export interface FakeDiscord {
  /** discord.js `rest.api` (`http://127.0.0.1:<port>/api`). */
  readonly apiRoot: string;
  /** What `GET /gateway/bot` answers. */
  readonly gatewayUrl: string;
  /** Every REST call, in order. */
  readonly calls: FakeDiscordCall[];
  /** Every gateway event, in order. */
  readonly gatewayLog: FakeDiscordGatewayEntry[];
  addBot(username: string, options?: FakeDiscordBotOptions): FakeDiscordBot;
  /** A guild the bot is in, with text channels (`"general"`) or forums (`{ name, type: "forum" }`). */
  addGuild(
    token: string,
    guild: { name: string; channels?: Array<string | { name: string; type: "text" | "forum" }> },
  ): FakeDiscordGuild;
  /** A thread (or, under a forum, a post) in a guild channel; announced with THREAD_CREATE. Returns its id. */
  addThread(token: string, parentId: string, name: string): string;
  /** The DM channel between the bot and a user (created on first use). */
  dmChannel(token: string, userId: string): string;
  /** Store a file; injected messages carry it as an attachment the client downloads from the fake. */
  addAttachment(content: Buffer, filename: string, contentType?: string): FakeDiscordAttachment;
  /** Deliver MESSAGE_CREATE to the bot's sessions (replayed on RESUME when it is disconnected). */
  inject(token: string, message: FakeDiscordMessageInput): FakeDiscordMessage;
  /** A DM from `author` (`inject` into their DM channel). */
  dm(
    token: string,
    author: FakeDiscordUser,
    content: string,
    extra?: Partial<FakeDiscordMessageInput>,
  ): FakeDiscordMessage;
  /** Messages the bots created over REST, in order. */
  sent(token?: string): FakeDiscordMessage[];
  /** Channels the bot showed "typing…" in, in order. */
  typing(token?: string): string[];
  /** The next `times` message creations answer 429 with `retry_after` (and the rate-limit headers). */
  rateLimitNext(times: number, options?: { retryAfterMs?: number; global?: boolean }): void;
  /** Per-channel message bucket (Discord: 5 per 5 s). Over it, a create answers 429 as Discord does. */
  setMessageRateLimit(limit: number, windowMs: number): void;
  identifies(token?: string): number;
  resumes(token?: string): number;
  /** What `GET /gateway/bot` reports for the bot now. */
  sessionStartLimit(token: string): { total: number; remaining: number; reset_after: number; max_concurrency: number };
  /** Cut the bot's gateway sockets (no close frame): the session stays resumable. */
  drop(token: string): void;
  /** Close the bot's gateway sockets with a code. */
  closeGateway(token: string, code: number, options?: { invalidateSession?: boolean }): void;
  /** Op 7: ask the bot to reconnect (and resume). */
  requestReconnect(token: string): void;
  /** Op 9 on the bot's sockets; not resumable: the sessions are forgotten. */
  invalidateSession(token: string, resumable?: boolean): void;
  /** Close every later IDENTIFY of the token with this code (4004, 4013, …); undefined stops it. */
  closeOnIdentify(token: string, code: number | undefined): void;
  /** Stop (or resume) acknowledging the bot's heartbeats: a zombie connection. */
  silence(token: string, silent?: boolean): void;
  /** The token was reset: REST answers 401, IDENTIFY is closed with 4004, open sockets are closed with 4004. */
  revoke(token: string): void;
  /** Cut every connection after it has been ready for a while (undefined: stop). */
  flap(flapping: FakeDiscordFlapping | undefined): void;
  until(check: () => boolean, ms?: number): Promise<void>;
  /** Stop answering (sockets cut), keeping the sessions: a network outage. */
  goDown(): Promise<void>;
  /** Listen again on the same port. */
  comeBack(): Promise<void>;
  /** A server restart: down, sessions forgotten, up again. */
  restart(): Promise<void>;
  close(): Promise<void>;
}

const DISCORD_EPOCH = 1_420_070_400_000n;
const MESSAGE_CONTENT_INTENT = 1 << 15;
const PRIVILEGED_INTENTS = (1 << 1) | (1 << 8);
const CHANNEL_TYPES = { text: 0, dm: 1, thread: 11, forum: 15 } as const;
const CLOSE_REASONS: Record<number, string> = {
  4000: "Unknown error",
  4004: "Authentication failed.",
  4009: "Session timed out",
  4013: "Invalid intent(s).",
  4014: "Disallowed intent(s).",
};

interface BotState {
  bot: FakeDiscordBot;
  revoked: boolean;
  messageContentIntent: boolean;
  limit: { total: number; remaining: number; resetAt: number };
  identifyClose: number | undefined;
  silent: boolean;
  guilds: Map<string, GuildState>;
  dmChannels: Map<string, string>;
}

interface GuildState {
  guild: FakeDiscordGuild;
  channels: Array<{ id: string; name: string; type: number; parent_id?: string }>;
}

interface ChannelInfo {
  token: string;
  type: number;
  guildId?: string;
  parentId?: string;
  recipientId?: string;
}

interface Session {
  id: string;
  token: string;
  seq: number;
  buffer: Array<{ s: number; t: string; d: unknown }>;
  connection: Connection | undefined;
}

interface Connection {
  id: number;
  socket: WebSocket;
  path: string;
  session: Session | undefined;
  flapTimer: NodeJS.Timeout | undefined;
}

/**
 * A fake of Discord for discord.js, on 127.0.0.1: REST v10 (`/gateway/bot`, users/@me, DM channels, messages
 * create/edit with files, typing, attachments, per-channel rate-limit buckets with the headers Discord sends and 429 on
 * demand) and the Gateway on the same port (HELLO, heartbeat ACK, IDENTIFY → READY with `resume_gateway_url` pointing
 * here, GUILD_CREATE, RESUME → replay + RESUMED, op 7, op 9, close codes on demand, session start limits, privileged
 * intents, flapping). Records every call; restartable on the same port.
 */
export async function startFakeDiscord(
  options: { port?: number; heartbeatIntervalMs?: number } = {},
): Promise<FakeDiscord> {
  const heartbeatIntervalMs = options.heartbeatIntervalMs ?? 41_250;
  const bots = new Map<string, BotState>();
  const channels = new Map<string, ChannelInfo>();
  const sessions = new Map<string, Session>();
  const connections = new Set<Connection>();
  const attachments = new Map<string, { content: Buffer; contentType: string }>();
  const messages = new Map<string, FakeDiscordMessage>();
  const calls: FakeDiscordCall[] = [];
  const gatewayLog: FakeDiscordGatewayEntry[] = [];
  const sent: Array<FakeDiscordMessage & { token: string }> = [];
  const typing: Array<{ token: string; channelId: string }> = [];
  const sockets = new Set<Socket>();
  const buckets = new Map<string, { count: number; resetAt: number }>();
  const forced429: Array<{ retryAfterMs: number; global: boolean }> = [];
  let messageLimit = { limit: 5, windowMs: 5_000 };
  let flapping: FakeDiscordFlapping | undefined;
  let increment = 0n;
  let nextConnection = 1;
  const snowflake = () => String(((BigInt(Date.now()) - DISCORD_EPOCH) << 22n) | (increment++ & 0xfffn));

  const server: Server = createServer((request, response) => {
    handle(request, response).catch((error: Error) =>
      json(response, 500, { message: `fake failed: ${error.message}` }),
    );
  });
  const wss = new WebSocketServer({ noServer: true });
  server.on("connection", (socket) => {
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
  });
  server.on("upgrade", (request, socket, head) => {
    wss.handleUpgrade(request, socket, head, (ws) =>
      onConnection(ws, new URL(request.url ?? "/", "ws://fake").pathname),
    );
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
  const base = `http://127.0.0.1:${port}`;
  const gatewayUrl = `ws://127.0.0.1:${port}`;

  // ---- REST ----------------------------------------------------------------------------------------------------

  function json(response: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}) {
    if (response.headersSent || response.destroyed) return;
    if (status === 204) response.writeHead(204, headers).end();
    else response.writeHead(status, { "content-type": "application/json", ...headers }).end(JSON.stringify(body));
  }

  async function handle(request: IncomingMessage, response: ServerResponse) {
    const url = new URL(request.url ?? "/", base);
    const file = /^\/attachments\/(\d+)\/[^/]+$/.exec(url.pathname);
    if (file && request.method === "GET") {
      const stored = attachments.get(file[1]!);
      if (!stored) return json(response, 404, { message: "Not Found" });
      response.writeHead(200, { "content-type": stored.contentType, "content-length": stored.content.length });
      response.end(stored.content);
      return;
    }
    const raw = await readBody(request);
    const match = /^\/api\/v\d+(\/.*)$/.exec(url.pathname);
    const path = match?.[1] ?? url.pathname;
    const token = /^Bot (.+)$/.exec(request.headers.authorization ?? "")?.[1];
    const body = parseBody(request.headers["content-type"] ?? "", raw);
    const call: FakeDiscordCall = {
      method: request.method ?? "GET",
      path,
      token,
      body: body.json,
      status: 0,
      at: Date.now(),
    };
    calls.push(call);
    const answer = (status: number, payload: unknown, headers: Record<string, string> = {}) => {
      call.status = status;
      json(response, status, payload, headers);
    };
    const state = token ? bots.get(token) : undefined;
    if (!state || state.revoked) return answer(401, { message: "401: Unauthorized", code: 0 });
    const route = `${call.method} ${path}`;
    if (route === "GET /gateway/bot")
      return answer(200, { url: gatewayUrl, shards: 1, session_start_limit: limitOf(state) });
    if (route === "GET /gateway") return answer(200, { url: gatewayUrl });
    if (route === "GET /users/@me") return answer(200, state.bot.user);
    if (route === "POST /users/@me/channels") {
      const recipient = String((body.json as { recipient_id?: string }).recipient_id ?? "");
      const id = dmChannelOf(state, recipient);
      return answer(200, { id, type: CHANNEL_TYPES.dm, recipients: [{ id: recipient, username: `user${recipient}` }] });
    }
    const channelRoute = /^\/channels\/(\d+)(\/.*)?$/.exec(path);
    const channelId = channelRoute?.[1];
    const channel = channelId ? channels.get(channelId) : undefined;
    if (!channelId || !channel || channel.token !== token)
      return answer(
        404,
        channelId ? { message: "Unknown Channel", code: 10003 } : { message: "404: Not Found", code: 0 },
      );
    const rest = channelRoute[2] ?? "";
    if (call.method === "GET" && rest === "") return answer(200, channelPayload(channelId, channel));
    if (call.method === "POST" && rest === "/typing") {
      typing.push({ token, channelId });
      return answer(204, undefined);
    }
    if (call.method === "POST" && rest === "/messages") return createMessage(state, channelId, channel, body, answer);
    const edit = /^\/messages\/(\d+)$/.exec(rest);
    if (call.method === "PATCH" && edit) {
      const message = messages.get(edit[1]!);
      if (!message || message.channel_id !== channelId) return answer(404, { message: "Unknown Message", code: 10008 });
      const content = (body.json as { content?: string }).content;
      if (typeof content === "string") message.content = content;
      return answer(200, messagePayload(message));
    }
    return answer(404, { message: "404: Not Found", code: 0 });
  }

  function createMessage(
    state: BotState,
    channelId: string,
    channel: ChannelInfo,
    body: ParsedBody,
    answer: (status: number, payload: unknown, headers?: Record<string, string>) => void,
  ) {
    const now = Date.now();
    const key = `${state.bot.token}:${channelId}`;
    let bucket = buckets.get(key);
    if (!bucket || bucket.resetAt <= now) bucket = { count: 0, resetAt: now + messageLimit.windowMs };
    buckets.set(key, bucket);
    const forced = forced429.shift();
    const over = bucket.count >= messageLimit.limit;
    if (forced || over) {
      const retryAfterMs = forced ? forced.retryAfterMs : bucket.resetAt - now;
      const global = forced?.global ?? false;
      return answer(
        429,
        { message: "You are being rate limited.", retry_after: retryAfterMs / 1000, global },
        {
          "retry-after": String(retryAfterMs / 1000),
          "x-ratelimit-limit": String(messageLimit.limit),
          "x-ratelimit-remaining": "0",
          "x-ratelimit-reset": String((now + retryAfterMs) / 1000),
          "x-ratelimit-reset-after": String(retryAfterMs / 1000),
          "x-ratelimit-bucket": "fake-channel-messages",
          "x-ratelimit-scope": global ? "global" : "user",
          ...(global ? { "x-ratelimit-global": "true" } : {}),
        },
      );
    }
    const payload = body.json as { content?: string; message_reference?: { message_id?: string } };
    const content = payload.content ?? "";
    if (content.length > 2000)
      return answer(400, {
        message: "Invalid Form Body",
        code: 50035,
        errors: {
          content: { _errors: [{ code: "BASE_TYPE_MAX_LENGTH", message: "Must be 2000 or fewer in length." }] },
        },
      });
    if (!content && body.files.length === 0)
      return answer(400, { message: "Cannot send an empty message", code: 50006 });
    bucket.count++;
    const message: FakeDiscordMessage & { token: string } = {
      token: state.bot.token,
      id: snowflake(),
      channel_id: channelId,
      ...(channel.guildId ? { guild_id: channel.guildId } : {}),
      author: state.bot.user,
      content,
      ...(payload.message_reference?.message_id
        ? {
            message_reference: {
              message_id: payload.message_reference.message_id,
              channel_id: channelId,
              ...(channel.guildId ? { guild_id: channel.guildId } : {}),
            },
          }
        : {}),
      attachments: body.files.map((file) => {
        const id = snowflake();
        attachments.set(id, { content: file.data, contentType: file.contentType });
        return {
          id,
          filename: file.filename,
          size: file.data.length,
          url: `${base}/attachments/${id}/${encodeURIComponent(file.filename)}`,
          proxy_url: `${base}/attachments/${id}/${encodeURIComponent(file.filename)}`,
          content_type: file.contentType,
          data: file.data,
        };
      }),
      timestamp: new Date(now).toISOString(),
    };
    messages.set(message.id, message);
    sent.push(message);
    const remaining = messageLimit.limit - bucket.count;
    answer(200, messagePayload(message), {
      "x-ratelimit-limit": String(messageLimit.limit),
      "x-ratelimit-remaining": String(remaining),
      "x-ratelimit-reset": String(bucket.resetAt / 1000),
      "x-ratelimit-reset-after": String((bucket.resetAt - now) / 1000),
      "x-ratelimit-bucket": "fake-channel-messages",
    });
    // Discord echoes the bot's own messages over the gateway, like anyone else's.
    dispatch(state.bot.token, "MESSAGE_CREATE", messageEvent(message, channel));
  }

  const limitOf = (state: BotState) => {
    const now = Date.now();
    if (state.limit.resetAt <= now)
      state.limit = { ...state.limit, remaining: state.limit.total, resetAt: now + 86_400_000 };
    return {
      total: state.limit.total,
      remaining: state.limit.remaining,
      reset_after: state.limit.resetAt - now,
      max_concurrency: 1,
    };
  };

  function dmChannelOf(state: BotState, userId: string): string {
    let id = state.dmChannels.get(userId);
    if (!id) {
      id = snowflake();
      state.dmChannels.set(userId, id);
      channels.set(id, { token: state.bot.token, type: CHANNEL_TYPES.dm, recipientId: userId });
    }
    return id;
  }

  function channelPayload(id: string, channel: ChannelInfo) {
    if (channel.type === CHANNEL_TYPES.dm)
      return { id, type: 1, recipients: [{ id: channel.recipientId, username: `user${channel.recipientId}` }] };
    const guild = bots.get(channel.token)?.guilds.get(channel.guildId ?? "");
    const known = guild?.channels.find((entry) => entry.id === id);
    return channelObject(channel.guildId!, known ?? { id, name: id, type: channel.type });
  }

  // ---- payloads ------------------------------------------------------------------------------------------------

  const userPayload = (user: FakeDiscordUser) => ({
    id: user.id,
    username: user.username,
    global_name: user.global_name ?? null,
    discriminator: "0",
    avatar: null,
    ...(user.bot ? { bot: true } : {}),
  });
  const memberPayload = (roles: string[] = []) => ({
    roles,
    joined_at: new Date(0).toISOString(),
    nick: null,
    deaf: false,
    mute: false,
    flags: 0,
  });

  function messagePayload(message: FakeDiscordMessage) {
    return {
      id: message.id,
      type: message.message_reference ? 19 : 0,
      channel_id: message.channel_id,
      ...(message.guild_id ? { guild_id: message.guild_id } : {}),
      author: userPayload(message.author),
      content: message.content,
      timestamp: message.timestamp,
      edited_timestamp: null,
      tts: false,
      mention_everyone: false,
      mentions: [],
      mention_roles: [],
      attachments: message.attachments.map(({ data: _data, ...attachment }) => attachment),
      embeds: [],
      pinned: false,
      flags: 0,
      components: [],
      ...(message.message_reference ? { message_reference: message.message_reference } : {}),
    };
  }

  function messageEvent(
    message: FakeDiscordMessage,
    channel: ChannelInfo,
    extra: { mentions?: FakeDiscordUser[]; mentionRoles?: string[]; replyTo?: FakeDiscordMessageInput["replyTo"] } = {},
  ) {
    const guild = channel.guildId !== undefined;
    const reply = extra.replyTo;
    return {
      ...messagePayload(message),
      channel_type: channel.type,
      ...(guild ? { member: memberPayload() } : {}),
      mentions: (extra.mentions ?? []).map((user) => ({
        ...userPayload(user),
        ...(guild ? { member: memberPayload() } : {}),
      })),
      mention_roles: extra.mentionRoles ?? [],
      ...(reply
        ? {
            type: 19,
            message_reference: {
              message_id: reply.id,
              channel_id: message.channel_id,
              ...(channel.guildId ? { guild_id: channel.guildId } : {}),
            },
            referenced_message: {
              ...messagePayload({
                id: reply.id,
                channel_id: message.channel_id,
                author: reply.author,
                content: reply.content ?? "",
                attachments: [],
                timestamp: new Date().toISOString(),
              }),
            },
          }
        : {}),
    };
  }

  function channelObject(guildId: string, channel: { id: string; name: string; type: number; parent_id?: string }) {
    const thread = channel.type === CHANNEL_TYPES.thread;
    return {
      id: channel.id,
      type: channel.type,
      name: channel.name,
      guild_id: guildId,
      position: 0,
      parent_id: channel.parent_id ?? null,
      permission_overwrites: [],
      nsfw: false,
      last_message_id: null,
      rate_limit_per_user: 0,
      ...(channel.type === CHANNEL_TYPES.forum ? { available_tags: [], default_reaction_emoji: null } : {}),
      ...(thread
        ? {
            owner_id: "1",
            message_count: 0,
            member_count: 1,
            thread_metadata: {
              archived: false,
              auto_archive_duration: 1440,
              archive_timestamp: new Date().toISOString(),
              locked: false,
            },
          }
        : {}),
    };
  }

  function guildPayload(state: BotState, guild: GuildState) {
    const { id, name, botRoleId } = guild.guild;
    return {
      id,
      name,
      icon: null,
      owner_id: "1",
      afk_timeout: 300,
      verification_level: 0,
      default_message_notifications: 0,
      explicit_content_filter: 0,
      mfa_level: 0,
      nsfw_level: 0,
      premium_tier: 0,
      system_channel_flags: 0,
      preferred_locale: "en-US",
      features: [],
      emojis: [],
      stickers: [],
      roles: [
        {
          id,
          name: "@everyone",
          permissions: "0",
          position: 0,
          color: 0,
          hoist: false,
          managed: false,
          mentionable: false,
        },
        {
          id: botRoleId,
          name: state.bot.user.username,
          permissions: "0",
          position: 1,
          color: 0,
          hoist: false,
          managed: true,
          mentionable: false,
          tags: { bot_id: state.bot.user.id },
        },
      ],
      joined_at: new Date(0).toISOString(),
      large: false,
      unavailable: false,
      member_count: 2,
      members: [{ user: userPayload(state.bot.user), ...memberPayload([botRoleId]) }],
      channels: guild.channels
        .filter((channel) => channel.type !== CHANNEL_TYPES.thread)
        .map((channel) => channelObject(id, channel)),
      threads: guild.channels
        .filter((channel) => channel.type === CHANNEL_TYPES.thread)
        .map((channel) => channelObject(id, channel)),
      voice_states: [],
      presences: [],
      stage_instances: [],
      guild_scheduled_events: [],
    };
  }

  // ---- gateway -------------------------------------------------------------------------------------------------

  const log = (
    connection: Connection,
    kind: FakeDiscordGatewayEntry["kind"],
    extra: Partial<FakeDiscordGatewayEntry> = {},
  ) =>
    gatewayLog.push({
      at: Date.now(),
      connection: connection.id,
      ...(connection.session ? { token: connection.session.token } : {}),
      kind,
      ...extra,
    });

  const send = (connection: Connection, payload: unknown) => {
    if (connection.socket.readyState === connection.socket.OPEN) connection.socket.send(JSON.stringify(payload));
  };

  function closeConnection(connection: Connection, code: number, token?: string) {
    clearTimeout(connection.flapTimer);
    log(connection, "close", { code, ...(token ? { token } : {}) });
    if (code === 1006) connection.socket.terminate();
    else connection.socket.close(code, CLOSE_REASONS[code] ?? "");
  }

  function onConnection(socket: WebSocket, path: string) {
    const connection: Connection = { id: nextConnection++, socket, path, session: undefined, flapTimer: undefined };
    connections.add(connection);
    log(connection, "open", { path });
    socket.on("close", () => {
      clearTimeout(connection.flapTimer);
      connections.delete(connection);
      if (connection.session?.connection === connection) connection.session.connection = undefined;
    });
    socket.on("message", (data) => {
      let frame: { op?: number; d?: Record<string, unknown> | number | null };
      try {
        frame = JSON.parse(String(data));
      } catch {
        return closeConnection(connection, 4002);
      }
      onFrame(connection, frame);
    });
    send(connection, { op: 10, d: { heartbeat_interval: heartbeatIntervalMs }, s: null, t: null });
  }

  function onFrame(connection: Connection, frame: { op?: number; d?: unknown }) {
    const d = (frame.d ?? {}) as Record<string, unknown>;
    switch (frame.op) {
      case 1: {
        const state = connection.session ? bots.get(connection.session.token) : undefined;
        if (!state?.silent) send(connection, { op: 11 });
        return;
      }
      case 2:
        return identify(connection, d);
      case 6:
        return resume(connection, d);
      case 3:
      case 4:
      case 8:
        return;
      default:
        return closeConnection(connection, 4001);
    }
  }

  function identify(connection: Connection, d: Record<string, unknown>) {
    const token = String(d.token ?? "");
    const state = bots.get(token);
    log(connection, "identify", { token });
    if (connection.session) return closeConnection(connection, 4005, token);
    if (!state || state.revoked) return closeConnection(connection, 4004, token);
    const limit = limitOf(state);
    if (limit.remaining <= 0) {
      // What Discord does to a bot that burns its session starts: the token is reset.
      state.revoked = true;
      return closeConnection(connection, 4004, token);
    }
    state.limit.remaining--;
    if (state.identifyClose !== undefined) return closeConnection(connection, state.identifyClose, token);
    const intents = Number(d.intents ?? 0);
    const privileged = PRIVILEGED_INTENTS | (state.messageContentIntent ? 0 : MESSAGE_CONTENT_INTENT);
    if (intents & privileged) return closeConnection(connection, 4014, token);
    const session: Session = { id: randomBytes(16).toString("hex"), token, seq: 0, buffer: [], connection };
    sessions.set(session.id, session);
    connection.session = session;
    push(session, "READY", {
      v: 10,
      user: userPayload(state.bot.user),
      guilds: [...state.guilds.keys()].map((id) => ({ id, unavailable: true })),
      session_id: session.id,
      resume_gateway_url: `${gatewayUrl}/resume`,
      shard: [0, 1],
      application: { id: state.bot.user.id, flags: 0 },
    });
    log(connection, "ready");
    for (const guild of state.guilds.values()) push(session, "GUILD_CREATE", guildPayload(state, guild));
    scheduleFlap(connection);
  }

  function resume(connection: Connection, d: Record<string, unknown>) {
    const token = String(d.token ?? "");
    const session = sessions.get(String(d.session_id ?? ""));
    log(connection, "resume", { token });
    const state = bots.get(token);
    if (!state || state.revoked) return closeConnection(connection, 4004, token);
    if (!session || session.token !== token) {
      log(connection, "invalid-session", { token });
      send(connection, { op: 9, d: false });
      return;
    }
    if (session.connection && session.connection !== connection) closeConnection(session.connection, 4000);
    session.connection = connection;
    connection.session = session;
    const after = Number(d.seq ?? 0);
    for (const event of session.buffer) if (event.s > after) send(connection, { op: 0, ...event });
    session.seq++;
    send(connection, { op: 0, s: session.seq, t: "RESUMED", d: {} });
    log(connection, "resumed");
    scheduleFlap(connection);
  }

  function scheduleFlap(connection: Connection) {
    if (!flapping) return;
    const { closeAfterMs, code = 1006, invalidateSession = false } = flapping;
    connection.flapTimer = setTimeout(() => {
      if (invalidateSession && connection.session) sessions.delete(connection.session.id);
      closeConnection(connection, code);
    }, closeAfterMs);
  }

  function push(session: Session, t: string, d: unknown) {
    session.seq++;
    const event = { s: session.seq, t, d };
    session.buffer.push(event);
    if (session.buffer.length > 1_000) session.buffer.shift();
    if (session.connection) send(session.connection, { op: 0, ...event });
  }

  function dispatch(token: string, t: string, d: unknown) {
    for (const session of sessions.values()) if (session.token === token) push(session, t, d);
  }

  const liveConnections = (token: string) =>
    [...connections].filter((connection) => connection.session?.token === token);

  const requireBot = (token: string) => {
    const state = bots.get(token);
    if (!state) throw new Error(`fake discord: no bot with token ${token}`);
    return state;
  };

  async function down(forget: boolean) {
    for (const connection of connections) clearTimeout(connection.flapTimer);
    for (const client of wss.clients) client.terminate();
    for (const socket of sockets) socket.destroy();
    await new Promise<void>((resolve) => server.close(() => resolve()));
    if (forget) sessions.clear();
  }

  // ---- controls ------------------------------------------------------------------------------------------------

  const fake: FakeDiscord = {
    apiRoot: `${base}/api`,
    gatewayUrl,
    calls,
    gatewayLog,
    addBot(username, botOptions = {}) {
      const token =
        botOptions.token ??
        `${Buffer.from(snowflake()).toString("base64url")}.${randomBytes(18).toString("base64url")}`;
      const limit = botOptions.sessionStartLimit ?? {};
      const bot: FakeDiscordBot = { token, user: { id: snowflake(), username, global_name: username, bot: true } };
      bots.set(token, {
        bot,
        revoked: false,
        messageContentIntent: botOptions.messageContentIntent ?? true,
        limit: {
          total: limit.total ?? 1000,
          remaining: limit.remaining ?? limit.total ?? 1000,
          resetAt: Date.now() + (limit.resetAfterMs ?? 86_400_000),
        },
        identifyClose: undefined,
        silent: false,
        guilds: new Map(),
        dmChannels: new Map(),
      });
      return bot;
    },
    addGuild(token, input) {
      const state = requireBot(token);
      const id = snowflake();
      const guild: GuildState = {
        guild: { id, name: input.name, botRoleId: snowflake(), channels: {} },
        channels: [],
      };
      for (const entry of input.channels ?? ["general"]) {
        const { name, type } = typeof entry === "string" ? { name: entry, type: "text" as const } : entry;
        const channelId = snowflake();
        guild.channels.push({ id: channelId, name, type: CHANNEL_TYPES[type] });
        guild.guild.channels[name] = channelId;
        channels.set(channelId, { token, type: CHANNEL_TYPES[type], guildId: id });
      }
      state.guilds.set(id, guild);
      dispatch(token, "GUILD_CREATE", guildPayload(state, guild));
      return guild.guild;
    },
    addThread(token, parentId, name) {
      const parent = channels.get(parentId);
      if (!parent?.guildId || parent.token !== token)
        throw new Error(`fake discord: ${parentId} is no guild channel of this bot`);
      const guild = requireBot(token).guilds.get(parent.guildId)!;
      const id = snowflake();
      const thread = { id, name, type: CHANNEL_TYPES.thread, parent_id: parentId };
      guild.channels.push(thread);
      channels.set(id, { token, type: CHANNEL_TYPES.thread, guildId: parent.guildId, parentId });
      dispatch(token, "THREAD_CREATE", { ...channelObject(parent.guildId, thread), newly_created: true });
      return id;
    },
    dmChannel: (token, userId) => dmChannelOf(requireBot(token), userId),
    addAttachment(content, filename, contentType = "application/octet-stream") {
      const id = snowflake();
      attachments.set(id, { content, contentType });
      const url = `${base}/attachments/${id}/${encodeURIComponent(filename)}`;
      return { id, filename, size: content.length, url, proxy_url: url, content_type: contentType };
    },
    inject(token, input) {
      requireBot(token);
      const channel = channels.get(input.channelId);
      if (!channel || channel.token !== token) throw new Error(`fake discord: unknown channel ${input.channelId}`);
      const message: FakeDiscordMessage = {
        id: snowflake(),
        channel_id: input.channelId,
        ...(channel.guildId ? { guild_id: channel.guildId } : {}),
        author: input.author,
        content: input.content,
        attachments: input.attachments ?? [],
        timestamp: new Date().toISOString(),
      };
      messages.set(message.id, message);
      dispatch(
        token,
        "MESSAGE_CREATE",
        messageEvent(message, channel, {
          ...(input.mentions ? { mentions: input.mentions } : {}),
          ...(input.mentionRoles ? { mentionRoles: input.mentionRoles } : {}),
          ...(input.replyTo ? { replyTo: input.replyTo } : {}),
        }),
      );
      return message;
    },
    dm(token, author, content, extra = {}) {
      return fake.inject(token, { ...extra, channelId: dmChannelOf(requireBot(token), author.id), author, content });
    },
    sent: (token) => (token ? sent.filter((message) => message.token === token) : [...sent]),
    typing: (token) => typing.filter((entry) => !token || entry.token === token).map((entry) => entry.channelId),
    rateLimitNext(times, limitOptions = {}) {
      for (let index = 0; index < times; index++)
        forced429.push({ retryAfterMs: limitOptions.retryAfterMs ?? 1_000, global: limitOptions.global ?? false });
    },
    setMessageRateLimit(limit, windowMs) {
      messageLimit = { limit, windowMs };
      buckets.clear();
    },
    identifies: (token) =>
      gatewayLog.filter((entry) => entry.kind === "identify" && (!token || entry.token === token)).length,
    resumes: (token) =>
      gatewayLog.filter((entry) => entry.kind === "resume" && (!token || entry.token === token)).length,
    sessionStartLimit: (token) => limitOf(requireBot(token)),
    drop(token) {
      for (const connection of liveConnections(token)) closeConnection(connection, 1006);
    },
    closeGateway(token, code, closeOptions = {}) {
      for (const connection of liveConnections(token)) {
        if (closeOptions.invalidateSession && connection.session) sessions.delete(connection.session.id);
        closeConnection(connection, code);
      }
    },
    requestReconnect(token) {
      for (const connection of liveConnections(token)) {
        log(connection, "reconnect");
        send(connection, { op: 7, d: null });
      }
    },
    invalidateSession(token, resumable = false) {
      for (const connection of liveConnections(token)) {
        log(connection, "invalid-session");
        if (!resumable && connection.session) sessions.delete(connection.session.id);
        send(connection, { op: 9, d: resumable });
      }
    },
    closeOnIdentify(token, code) {
      requireBot(token).identifyClose = code;
    },
    silence(token, silent = true) {
      requireBot(token).silent = silent;
    },
    revoke(token) {
      requireBot(token).revoked = true;
      for (const connection of liveConnections(token)) closeConnection(connection, 4004);
    },
    flap(next) {
      flapping = next;
    },
    async until(check, ms = 5_000) {
      const deadline = Date.now() + ms;
      while (!check()) {
        if (Date.now() > deadline) throw new Error(`fake discord: condition not met within ${ms} ms`);
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
    },
    goDown: () => down(false),
    comeBack: () => listen(port),
    async restart() {
      await down(true);
      await listen(port);
    },
    async close() {
      flapping = undefined;
      await down(true);
      wss.close();
    },
  };
  return fake;
}

// ---- bodies ------------------------------------------------------------------------------------------------------

interface ParsedBody {
  json: unknown;
  files: Array<{ filename: string; contentType: string; data: Buffer }>;
}

async function readBody(request: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of request) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

/** JSON, or multipart/form-data as discord.js sends files: `payload_json` plus `files[n]`. */
function parseBody(contentType: string, raw: Buffer): ParsedBody {
  if (raw.length === 0) return { json: {}, files: [] };
  const boundary = /boundary=(?:"([^"]+)"|([^;]+))/.exec(contentType);
  if (!contentType.startsWith("multipart/form-data") || !boundary) {
    try {
      return { json: JSON.parse(raw.toString("utf8")), files: [] };
    } catch {
      return { json: {}, files: [] };
    }
  }
  const delimiter = Buffer.from(`--${boundary[1] ?? boundary[2]}`);
  const files: ParsedBody["files"] = [];
  let json: unknown = {};
  let start = raw.indexOf(delimiter);
  while (start !== -1) {
    const next = raw.indexOf(delimiter, start + delimiter.length);
    if (next === -1) break;
    const part = raw.subarray(start + delimiter.length + 2, next - 2);
    const split = part.indexOf("\r\n\r\n");
    const headers = part.subarray(0, split).toString("utf8");
    const data = part.subarray(split + 4);
    const name = /name="([^"]*)"/.exec(headers)?.[1];
    const filename = /filename="([^"]*)"/.exec(headers)?.[1];
    if (filename !== undefined)
      files.push({
        filename,
        contentType: /content-type:\s*([^\r\n]+)/i.exec(headers)?.[1] ?? "application/octet-stream",
        data: Buffer.from(data),
      });
    else if (name === "payload_json") json = JSON.parse(data.toString("utf8"));
    start = next;
  }
  return { json, files };
}
