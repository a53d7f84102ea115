import { createHmac, randomBytes } from "node:crypto";
import {
  createServer,
  Agent as HttpAgent,
  request as httpRequest,
  type IncomingMessage,
  type Server,
  type ServerResponse,
} from "node:http";
import type { Socket } from "node:net";
import {
  type FakeSlackDelivery,
  type FakeSlackSilence,
  type FakeSlackSocket,
  FakeSocketServer,
} from "./fake-slack-socket.js";

export type { FakeSlackDelivery, FakeSlackSilence, FakeSlackSocket } from "./fake-slack-socket.js";

/** A Slack app installed in a fake workspace: its tokens, secret and bot user. */
export interface FakeSlackApp {
  appId: string;
  teamId: string;
  teamName: string;
  botName: string;
  botUserId: string;
  botId: string;
  /** `xoxb-…`: the Web API. */
  botToken: string;
  /** `xapp-…`: apps.connections.open (Socket Mode). */
  appToken: string;
  /** Signs HTTP event deliveries. */
  signingSecret: string;
  /** The bot token's scopes (sent in `x-oauth-scopes`; calls needing another answer `missing_scope`). */
  scopes: string[];
  /** Where HTTP events go; unset: events go over Socket Mode. */
  requestUrl: string | undefined;
}

/** A conversation: a DM (`im`, id D…), a public (`channel`, C…) or private (`group`, G…) channel, or a group DM. */
export interface FakeSlackChannel {
  id: string;
  name: string;
  type: "im" | "channel" | "group" | "mpim";
}

/** A user of the workspace. */
export interface FakeSlackUser {
  id: string;
  name: string;
  real_name: string;
  is_bot?: boolean;
}

/** A file in the workspace (served at `url_private_download` to a bot token with files:read). */
export interface FakeSlackFile {
  id: string;
  name: string;
  title: string;
  mimetype: string;
  filetype: string;
  size: number;
  url_private: string;
  url_private_download: string;
}

/** One recorded Web API call. */
export interface FakeSlackCall {
  method: string;
  token: string | undefined;
  params: Record<string, unknown>;
  at: number;
}

/** A scripted failure of the next call(s) to a method. */
export interface FakeSlackFailure {
  /** The `error` of `{ok:false}` (invalid_auth, missing_scope, ratelimited…). */
  error: string;
  /** HTTP status: 429 sends `Retry-After`. @default 200 (Slack answers errors with 200) */
  status?: number;
  /** Seconds, for 429. @default 1 */
  retryAfter?: number;
  /** For missing_scope: the scope the call needs. */
  needed?: string;
  /** @default 1 */
  times?: number;
}

/** A message the bot posted (chat.postMessage) or edited (chat.update). */
export interface FakeSlackPosted {
  appId: string;
  channel: string;
  text: string;
  ts: string;
  thread_ts: string | undefined;
  at: number;
  /** chat.update calls on it, in order. */
  edits: string[];
}

/** What a test injects as a message; the fake fills in ts, team and channel_type. */
export interface FakeSlackInbound {
  channel: string;
  user: string;
  text?: string;
  thread_ts?: string;
  /** The author of the thread's first message (Slack sets it on replies). */
  parent_user_id?: string;
  subtype?: string;
  bot_id?: string;
  files?: FakeSlackFile[];
  /** Extra fields of the event (`message` for message_changed…). */
  extra?: Record<string, unknown>;
}

/** The fake and its controls. */
export interface FakeSlack {
  /** `http://127.0.0.1:<port>/api/` — Bolt's `clientOptions.slackApiUrl`. */
  readonly apiUrl: string;
  readonly calls: FakeSlackCall[];
  readonly posted: FakeSlackPosted[];
  readonly statuses: Array<{ channel_id: string; thread_ts: string; status: string; at: number }>;
  readonly reactions: Array<{ action: "add" | "remove"; channel: string; timestamp: string; name: string }>;
  readonly uploads: Array<{
    channel_id: string | undefined;
    thread_ts: string | undefined;
    initial_comment: string | undefined;
    filename: string;
    content: Buffer;
  }>;
  /** Every Socket Mode connection ever opened, and every event delivered over Socket Mode. */
  readonly sockets: FakeSlackSocket[];
  readonly deliveries: FakeSlackDelivery[];
  /** Add an app (a workspace of its own unless `teamId` is given). */
  addApp(options: { botName: string; teamName?: string; teamId?: string; scopes?: string[] }): FakeSlackApp;
  addUser(user: { id?: string; name: string; real_name?: string; is_bot?: boolean }): FakeSlackUser;
  addChannel(channel: { id?: string; name?: string; type: FakeSlackChannel["type"] }): FakeSlackChannel;
  /** A file of the team (`teamId`, default: the first app's) that a bot token of the team may download. */
  addFile(content: Buffer, options: { name: string; mimetype: string; teamId?: string }): FakeSlackFile;
  /** Every later call with this token answers `error` (invalid_auth, token_revoked, account_inactive). */
  revoke(token: string, error?: string): void;
  failNext(method: string, failure: FakeSlackFailure): void;
  /** POST HTTP events of the app to `url` (signed); undefined: back to Socket Mode. */
  setRequestUrl(app: FakeSlackApp, url: string | undefined): void;
  /**
   * A user posts a message: a `message` event (and an `app_mention` too when `mention` is set, as Slack sends both
   * for a mention in a channel) delivered over Socket Mode or HTTP. Resolves once handed over (HTTP: answered).
   */
  inject(
    app: FakeSlackApp,
    message: FakeSlackInbound,
    options?: { mention?: boolean },
  ): Promise<{ ts: string; eventIds: string[] }>;
  /** Deliver any event (`{type, …}`) in an event_callback; resolves with its event id. */
  deliverEvent(app: FakeSlackApp, event: Record<string, unknown>): Promise<string>;
  /** Send an event again as a retry (Socket Mode: a new envelope, `retry_attempt` + 1; HTTP: `X-Slack-Retry-Num`). */
  redeliver(eventId: string): Promise<void>;
  /** POST a raw body to the app's request URL, signed unless `signature`/`timestamp` say otherwise. */
  postToApp(
    app: FakeSlackApp,
    body: string,
    options?: { signature?: string; timestamp?: number; headers?: Record<string, string> },
  ): Promise<Response>;
  /** Socket Mode controls. */
  openSockets(app: FakeSlackApp): number;
  maxOpenSockets(app: FakeSlackApp): number;
  resetMaxOpen(app: FakeSlackApp): void;
  /** Send `disconnect` (refresh_requested, link_disabled, warning…) to the app's sockets or one of them. */
  disconnect(app: FakeSlackApp, reason: string, options?: { socketId?: number; closeAfterMs?: number }): number;
  silence(socketId: number, mode?: FakeSlackSilence): void;
  /** Cut one socket abruptly (no disconnect message, no close frame). */
  dropSocket(socketId: number): void;
  dropAcks(app: FakeSlackApp, count: number): void;
  holdHello(app: FakeSlackApp, hold: boolean): void;
  /** The bot's messages in a channel (and thread), in order. */
  sentTo(channel: string, thread_ts?: string): FakeSlackPosted[];
  until(check: () => boolean, ms?: number): Promise<void>;
  /** Stop answering (HTTP and WebSockets cut), then listen again on the same port. */
  goDown(): Promise<void>;
  comeBack(): Promise<void>;
  close(): Promise<void>;
}

/** The headers Slack signs an HTTP event with: `v0=` + HMAC-SHA256(secret, `v0:<timestamp>:<body>`). */
export function signSlackRequest(
  signingSecret: string,
  body: string,
  timestamp = Math.floor(Date.now() / 1000),
): { "x-slack-request-timestamp": string; "x-slack-signature": string } {
  const digest = createHmac("sha256", signingSecret).update(`v0:${timestamp}:${body}`).digest("hex");
  return { "x-slack-request-timestamp": String(timestamp), "x-slack-signature": `v0=${digest}` };
}

/** Slack's servers keep connections to an app's request URL open: one keep-alive agent for every delivery. */
const deliveryAgent = new HttpAgent({ keepAlive: true });

/** POST `body` with node:http (lighter than fetch, so a benchmark measures the gateway, not the client). */
function postJson(url: string, body: string, headers: Record<string, string>): Promise<Response> {
  return new Promise((resolve, reject) => {
    const request = httpRequest(url, { method: "POST", headers, agent: deliveryAgent }, (response) => {
      const chunks: Buffer[] = [];
      response.on("data", (chunk: Buffer) => chunks.push(chunk));
      response.on("end", () => {
        const answer = new Headers();
        for (const [name, value] of Object.entries(response.headers))
          if (typeof value === "string") answer.set(name, value);
        const status = response.statusCode ?? 500;
        resolve(
          new Response(status === 204 || status === 304 ? null : Buffer.concat(chunks), { status, headers: answer }),
        );
      });
      response.on("error", reject);
    });
    request.on("error", reject);
    request.end(body);
  });
}

/** The scope each method needs (one of them, for conversations by type). */
const METHOD_SCOPES: Record<string, string | ((channel: FakeSlackChannel | undefined) => string)> = {
  "chat.postMessage": "chat:write",
  "chat.update": "chat:write",
  "users.info": "users:read",
  "files.info": "files:read",
  "files.getUploadURLExternal": "files:write",
  "files.completeUploadExternal": "files:write",
  "assistant.threads.setStatus": "assistant:write",
  "reactions.add": "reactions:write",
  "reactions.remove": "reactions:write",
  "conversations.info": (channel) => `${channel?.type === "channel" ? "channels" : (channel?.type ?? "channels")}:read`,
  "conversations.replies": (channel) =>
    `${channel?.type === "channel" ? "channels" : (channel?.type ?? "channels")}:history`,
};

/** The scopes a bot gets unless a test says otherwise. */
export const FAKE_SLACK_DEFAULT_SCOPES = [
  "app_mentions:read",
  "channels:history",
  "channels:read",
  "chat:write",
  "files:read",
  "files:write",
  "groups:history",
  "groups:read",
  "im:history",
  "im:read",
  "mpim:history",
  "mpim:read",
  "reactions:write",
  "users:read",
];

interface EventRecord {
  eventId: string;
  app: FakeSlackApp;
  payload: Record<string, unknown>;
  delivery: FakeSlackDelivery | undefined;
  httpAttempts: number;
}

/**
 * A fake of Slack on 127.0.0.1, driven by the real Bolt: the Web API (form-encoded `POST /api/<method>`: auth.test,
 * apps.connections.open, chat.postMessage/update, conversations.info/replies, users.info, files.info, file download
 * and upload, assistant.threads.setStatus, reactions.add/remove), `ok:false` errors and 429 with `Retry-After` on
 * demand, scopes enforced (`missing_scope` with `needed`), Socket Mode (see fake-slack-socket.ts) and signed HTTP
 * event deliveries with retries.
 */
export async function startFakeSlack(
  options: { port?: number; ackTimeoutMs?: number; maxRetries?: number; pingIntervalMs?: number } = {},
): Promise<FakeSlack> {
  const apps = new Map<string, FakeSlackApp>();
  const tokens = new Map<string, { app: FakeSlackApp; kind: "bot" | "app" }>();
  const revoked = new Map<string, string>();
  const users = new Map<string, FakeSlackUser>();
  const channels = new Map<string, FakeSlackChannel>();
  const files = new Map<string, { file: FakeSlackFile; content: Buffer; teamId: string }>();
  const failures = new Map<string, FakeSlackFailure[]>();
  const events = new Map<string, EventRecord>();
  const messages = new Map<string, Array<Record<string, unknown>>>();
  const calls: FakeSlackCall[] = [];
  const posted: FakeSlackPosted[] = [];
  const statuses: FakeSlack["statuses"] = [];
  const reactions: FakeSlack["reactions"] = [];
  const uploads: FakeSlack["uploads"] = [];
  const pendingUploads = new Map<string, { filename: string; content: Buffer | undefined }>();
  const sockets = new Set<Socket>();
  const socketServer = new FakeSocketServer({
    ackTimeoutMs: options.ackTimeoutMs ?? 3_000,
    maxRetries: options.maxRetries ?? 3,
    pingIntervalMs: options.pingIntervalMs ?? 5_000,
  });
  let counter = 1;
  let lastTs = 0;
  const id = (prefix: string) => `${prefix}${String(counter++).padStart(8, "0")}`;
  /** Slack timestamps: seconds with six decimals, unique and increasing. */
  const nextTs = () => {
    lastTs = Math.max(lastTs + 1, Date.now() * 1000);
    return `${Math.floor(lastTs / 1_000_000)}.${String(lastTs % 1_000_000).padStart(6, "0")}`;
  };

  const reply = (response: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}) => {
    if (response.headersSent || response.destroyed) return;
    response.writeHead(status, { "content-type": "application/json; charset=utf-8", ...headers });
    response.end(JSON.stringify(body));
  };
  const error = (response: ServerResponse, code: string, extra: Record<string, unknown> = {}) =>
    reply(response, 200, { ok: false, error: code, ...extra });

  async function readBody(request: IncomingMessage): Promise<Buffer> {
    const chunks: Buffer[] = [];
    for await (const chunk of request) chunks.push(chunk as Buffer);
    return Buffer.concat(chunks);
  }

  async function readParams(request: IncomingMessage, raw: Buffer): Promise<Record<string, unknown>> {
    const type = request.headers["content-type"] ?? "";
    if (raw.length === 0) return {};
    if (type.includes("application/json")) return JSON.parse(raw.toString("utf8")) as Record<string, unknown>;
    if (type.includes("x-www-form-urlencoded")) return Object.fromEntries(new URLSearchParams(raw.toString("utf8")));
    if (type.includes("multipart/form-data")) {
      const form = await new Response(new Uint8Array(raw), { headers: { "content-type": type } }).formData();
      const params: Record<string, unknown> = {};
      const entries: Array<[string, FormDataEntryValue]> = [];
      form.forEach((value, key) => {
        entries.push([key, value]);
      });
      for (const [key, value] of entries)
        params[key] = typeof value === "string" ? value : Buffer.from(await value.arrayBuffer());
      return params;
    }
    return {};
  }

  const userObject = (user: FakeSlackUser) => ({
    id: user.id,
    name: user.name,
    real_name: user.real_name,
    is_bot: user.is_bot ?? false,
    profile: { real_name: user.real_name, display_name: user.name },
  });

  function channelObject(channel: FakeSlackChannel) {
    return {
      id: channel.id,
      name: channel.name,
      is_im: channel.type === "im",
      is_channel: channel.type === "channel",
      is_group: channel.type === "group",
      is_mpim: channel.type === "mpim",
      is_private: channel.type !== "channel",
      is_member: true,
    };
  }

  async function handleApi(method: string, request: IncomingMessage, response: ServerResponse) {
    const raw = await readBody(request);
    const params = await readParams(request, raw);
    const bearer = /^Bearer (.+)$/.exec(request.headers.authorization ?? "")?.[1];
    const token = bearer ?? (typeof params.token === "string" ? params.token : undefined);
    calls.push({ method, token, params, at: Date.now() });
    const scripted = failures.get(method);
    if (scripted?.length) {
      const failure = scripted[0]!;
      failure.times = (failure.times ?? 1) - 1;
      if (failure.times <= 0) scripted.shift();
      if (failure.status === 429)
        return reply(
          response,
          429,
          { ok: false, error: "ratelimited" },
          { "retry-after": String(failure.retryAfter ?? 1) },
        );
      return reply(response, failure.status ?? 200, {
        ok: false,
        error: failure.error,
        ...(failure.needed ? { needed: failure.needed, provided: "" } : {}),
      });
    }
    if (method === "api.test") return reply(response, 200, { ok: true });
    if (!token) return error(response, "not_authed");
    if (revoked.has(token)) return error(response, revoked.get(token)!);
    const owner = tokens.get(token);
    if (!owner) return error(response, "invalid_auth");
    const { app } = owner;
    if (method === "apps.connections.open") {
      if (owner.kind !== "app") return error(response, "not_allowed_token_type");
      const host = request.headers.host ?? "127.0.0.1";
      return reply(response, 200, { ok: true, url: `ws://${host}/link/?ticket=${socketServer.ticket(app.appId)}` });
    }
    if (owner.kind !== "bot") return error(response, "not_allowed_token_type");
    const channel = channels.get(String(params.channel ?? params.channel_id ?? ""));
    const needs = METHOD_SCOPES[method];
    const needed = typeof needs === "function" ? needs(channel) : needs;
    const scopeHeader = { "x-oauth-scopes": app.scopes.join(",") };
    if (needed && !app.scopes.includes(needed))
      return reply(
        response,
        200,
        { ok: false, error: "missing_scope", needed, provided: app.scopes.join(",") },
        scopeHeader,
      );
    const ok = (body: Record<string, unknown>) => reply(response, 200, { ok: true, ...body }, scopeHeader);
    switch (method) {
      case "auth.test":
        return ok({
          url: `https://${app.teamName.toLowerCase()}.slack.com/`,
          team: app.teamName,
          user: app.botName,
          team_id: app.teamId,
          user_id: app.botUserId,
          bot_id: app.botId,
          app_id: app.appId,
          is_enterprise_install: false,
        });
      case "chat.postMessage": {
        if (!channel) return error(response, "channel_not_found");
        const text = String(params.text ?? "");
        if (!text) return error(response, "no_text");
        if (text.length > 40_000) return error(response, "msg_too_long");
        const ts = nextTs();
        const thread_ts = params.thread_ts ? String(params.thread_ts) : undefined;
        posted.push({ appId: app.appId, channel: channel.id, text, ts, thread_ts, at: Date.now(), edits: [] });
        remember(channel.id, { type: "message", user: app.botUserId, bot_id: app.botId, text, ts, thread_ts });
        return ok({ channel: channel.id, ts, message: { type: "message", text, user: app.botUserId, ts, thread_ts } });
      }
      case "chat.update": {
        const message = posted.find((entry) => entry.channel === channel?.id && entry.ts === String(params.ts));
        if (!message) return error(response, "message_not_found");
        message.text = String(params.text ?? "");
        message.edits.push(message.text);
        return ok({ channel: message.channel, ts: message.ts, text: message.text });
      }
      case "conversations.info":
        return channel ? ok({ channel: channelObject(channel) }) : error(response, "channel_not_found");
      case "conversations.replies": {
        if (!channel) return error(response, "channel_not_found");
        const root = String(params.ts ?? "");
        const thread = (messages.get(channel.id) ?? []).filter(
          (message) => message.ts === root || message.thread_ts === root,
        );
        return thread.length ? ok({ messages: thread, has_more: false }) : error(response, "thread_not_found");
      }
      case "users.info": {
        const user = users.get(String(params.user ?? ""));
        return user ? ok({ user: userObject(user) }) : error(response, "user_not_found");
      }
      case "files.info": {
        const file = files.get(String(params.file ?? ""));
        return file ? ok({ file: file.file }) : error(response, "file_not_found");
      }
      case "files.getUploadURLExternal": {
        const fileId = id("F");
        pendingUploads.set(fileId, { filename: String(params.filename ?? "file"), content: undefined });
        return ok({ upload_url: `http://${request.headers.host}/upload/${fileId}`, file_id: fileId });
      }
      case "files.completeUploadExternal": {
        const list = JSON.parse(String(params.files ?? "[]")) as Array<{ id: string; title?: string }>;
        const done = [];
        for (const entry of list) {
          const pending = pendingUploads.get(entry.id);
          if (!pending?.content) return error(response, "file_upload_not_found");
          pendingUploads.delete(entry.id);
          uploads.push({
            channel_id: params.channel_id ? String(params.channel_id) : undefined,
            thread_ts: params.thread_ts ? String(params.thread_ts) : undefined,
            initial_comment: params.initial_comment ? String(params.initial_comment) : undefined,
            filename: pending.filename,
            content: pending.content,
          });
          done.push({ id: entry.id, title: entry.title ?? pending.filename });
        }
        return ok({ files: done });
      }
      case "assistant.threads.setStatus":
        if (!params.channel_id || !params.thread_ts) return error(response, "invalid_arguments");
        statuses.push({
          channel_id: String(params.channel_id),
          thread_ts: String(params.thread_ts),
          status: String(params.status ?? ""),
          at: Date.now(),
        });
        return ok({});
      case "reactions.add":
      case "reactions.remove": {
        const action = method === "reactions.add" ? "add" : "remove";
        const entry = {
          channel: String(params.channel),
          timestamp: String(params.timestamp),
          name: String(params.name),
        };
        const present =
          reactions
            .filter(
              (reaction) =>
                reaction.channel === entry.channel &&
                reaction.timestamp === entry.timestamp &&
                reaction.name === entry.name,
            )
            .reduce((count, reaction) => count + (reaction.action === "add" ? 1 : -1), 0) > 0;
        if (action === "add" && present) return error(response, "already_reacted");
        if (action === "remove" && !present) return error(response, "no_reaction");
        reactions.push({ action, ...entry });
        return ok({});
      }
      default:
        return error(response, "unknown_method");
    }
  }

  function remember(channel: string, message: Record<string, unknown>) {
    const list = messages.get(channel) ?? [];
    list.push(message);
    messages.set(channel, list.slice(-500));
  }

  async function handle(request: IncomingMessage, response: ServerResponse) {
    const url = new URL(request.url ?? "/", "http://fake");
    const api = /^\/api\/([A-Za-z.]+)$/.exec(url.pathname);
    if (api && request.method === "POST") return handleApi(api[1]!, request, response);
    const download = /^\/files-pri\/([^/]+)\/([^/]+)$/.exec(url.pathname);
    if (download && request.method === "GET") {
      const stored = files.get(download[1]!);
      const bearer = /^Bearer (.+)$/.exec(request.headers.authorization ?? "")?.[1] ?? "";
      const owner = tokens.get(bearer);
      const allowed =
        stored &&
        owner?.kind === "bot" &&
        owner.app.teamId === stored.teamId &&
        !revoked.has(bearer) &&
        owner.app.scopes.includes("files:read");
      if (!allowed) {
        // Like Slack: no valid token gets the sign-in page, with status 200.
        response
          .writeHead(200, { "content-type": "text/html; charset=utf-8" })
          .end("<html><body>Sign in to Slack</body></html>");
        return;
      }
      response.writeHead(200, {
        "content-type": stored.file.mimetype,
        "content-length": String(stored.content.length),
      });
      response.end(stored.content);
      return;
    }
    const upload = /^\/upload\/([^/]+)$/.exec(url.pathname);
    if (upload && request.method === "POST") {
      const pending = pendingUploads.get(upload[1]!);
      if (!pending) return reply(response, 404, { ok: false, error: "upload_not_found" });
      const raw = await readBody(request);
      const params = await readParams(request, raw);
      const body = Object.values(params).find((value) => Buffer.isBuffer(value));
      pending.content = body ?? raw;
      response.writeHead(200, { "content-type": "text/plain" }).end(`OK - ${pending.content.length}`);
      return;
    }
    reply(response, 404, { ok: false, error: "not_found" });
  }

  const server: Server = createServer((request, response) => {
    handle(request, response).catch((failure: Error) =>
      reply(response, 500, { ok: false, error: `fake: ${failure.message}` }),
    );
  });
  server.on("connection", (socket) => {
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
  });
  server.on("upgrade", (request, socket, head) => {
    if (!socketServer.upgrade(request, socket, head)) socket.destroy();
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
  const origin = `http://127.0.0.1:${port}`;
  const down = () =>
    new Promise<void>((resolve) => {
      socketServer.terminateAll();
      for (const socket of sockets) socket.destroy();
      server.close(() => resolve());
    });

  const eventCallback = (app: FakeSlackApp, event: Record<string, unknown>, eventId: string) => ({
    token: "fake-verification-token",
    team_id: app.teamId,
    api_app_id: app.appId,
    event,
    type: "event_callback",
    event_id: eventId,
    event_time: Math.floor(Date.now() / 1000),
    authorizations: [
      { enterprise_id: null, team_id: app.teamId, user_id: app.botUserId, is_bot: true, is_enterprise_install: false },
    ],
    is_ext_shared_channel: false,
  });

  /** POST an event to the app's request URL; retried (as Slack does) while it fails, up to 3 times. */
  async function postEvent(record: EventRecord): Promise<void> {
    for (;;) {
      const retry = record.httpAttempts++;
      const outcome = await fake
        .postToApp(record.app, JSON.stringify(record.payload), {
          headers: retry > 0 ? { "x-slack-retry-num": String(retry), "x-slack-retry-reason": "http_error" } : {},
        })
        .then(
          (answer) => answer.ok,
          () => false,
        );
      if (outcome || retry >= 3) return;
    }
  }

  async function deliver(app: FakeSlackApp, event: Record<string, unknown>): Promise<string> {
    const eventId = `Ev${randomBytes(5).toString("hex").toUpperCase()}`;
    const record: EventRecord = {
      eventId,
      app,
      payload: eventCallback(app, event, eventId),
      delivery: undefined,
      httpAttempts: 0,
    };
    events.set(eventId, record);
    if (app.requestUrl) await postEvent(record);
    else record.delivery = socketServer.deliver(app.appId, eventId, record.payload);
    return eventId;
  }

  const fake: FakeSlack = {
    apiUrl: `${origin}/api/`,
    calls,
    posted,
    statuses,
    reactions,
    uploads,
    sockets: socketServer.sockets,
    deliveries: socketServer.deliveries,
    addApp({ botName, teamName, teamId, scopes }) {
      const app: FakeSlackApp = {
        appId: id("A"),
        teamId: teamId ?? id("T"),
        teamName: teamName ?? "Fakeworks",
        botName,
        botUserId: id("U"),
        botId: id("B"),
        botToken: `xoxb-${randomBytes(12).toString("hex")}`,
        appToken: `xapp-1-${randomBytes(12).toString("hex")}`,
        signingSecret: randomBytes(16).toString("hex"),
        scopes: scopes ?? [...FAKE_SLACK_DEFAULT_SCOPES],
        requestUrl: undefined,
      };
      apps.set(app.appId, app);
      tokens.set(app.botToken, { app, kind: "bot" });
      tokens.set(app.appToken, { app, kind: "app" });
      users.set(app.botUserId, { id: app.botUserId, name: botName, real_name: botName, is_bot: true });
      return app;
    },
    addUser({ id: userId, name, real_name, is_bot }) {
      const user = { id: userId ?? id("U"), name, real_name: real_name ?? name, ...(is_bot ? { is_bot } : {}) };
      users.set(user.id, user);
      return user;
    },
    addChannel({ id: channelId, name, type }) {
      const prefix = type === "im" ? "D" : type === "channel" ? "C" : "G";
      const channel = { id: channelId ?? id(prefix), name: name ?? "", type };
      channels.set(channel.id, channel);
      return channel;
    },
    addFile(content, { name, mimetype, teamId }) {
      const fileId = id("F");
      const url = `${origin}/files-pri/${fileId}/${encodeURIComponent(name)}`;
      const file: FakeSlackFile = {
        id: fileId,
        name,
        title: name,
        mimetype,
        filetype: name.split(".").pop() ?? "",
        size: content.length,
        url_private: url,
        url_private_download: url,
      };
      files.set(fileId, { file, content, teamId: teamId ?? [...apps.values()][0]?.teamId ?? "" });
      return file;
    },
    revoke(token, code = "token_revoked") {
      revoked.set(token, code);
    },
    failNext(method, failure) {
      failures.set(method, [...(failures.get(method) ?? []), { ...failure }]);
    },
    setRequestUrl(app, url) {
      app.requestUrl = url;
    },
    async inject(app, message, injectOptions = {}) {
      const channel =
        channels.get(message.channel) ??
        fake.addChannel({ id: message.channel, type: message.channel.startsWith("D") ? "im" : "channel" });
      const ts = nextTs();
      const base = {
        user: message.user,
        text: message.text ?? "",
        ts,
        event_ts: ts,
        channel: channel.id,
        team: app.teamId,
        ...(message.thread_ts ? { thread_ts: message.thread_ts } : {}),
        ...(message.parent_user_id ? { parent_user_id: message.parent_user_id } : {}),
      };
      const event = {
        type: "message",
        ...base,
        channel_type: channel.type,
        ...(message.subtype ? { subtype: message.subtype } : {}),
        ...(message.bot_id ? { bot_id: message.bot_id } : {}),
        ...(message.files ? { files: message.files } : {}),
        ...message.extra,
      };
      remember(channel.id, event);
      const eventIds = [await deliver(app, event)];
      if (injectOptions.mention) eventIds.push(await deliver(app, { type: "app_mention", ...base }));
      return { ts, eventIds };
    },
    deliverEvent: (app, event) => deliver(app, event),
    async redeliver(eventId) {
      const record = events.get(eventId);
      if (!record) throw new Error(`fake slack: no event ${eventId}`);
      if (record.delivery) socketServer.redeliver(record.delivery);
      else {
        const retry = Math.max(1, record.httpAttempts++);
        await fake.postToApp(record.app, JSON.stringify(record.payload), {
          headers: { "x-slack-retry-num": String(retry), "x-slack-retry-reason": "http_timeout" },
        });
      }
    },
    async postToApp(app, body, postOptions = {}) {
      if (!app.requestUrl) throw new Error(`fake slack: app ${app.appId} has no request URL`);
      const signed = signSlackRequest(app.signingSecret, body, postOptions.timestamp);
      return postJson(app.requestUrl, body, {
        "content-type": "application/json",
        ...signed,
        ...(postOptions.signature !== undefined ? { "x-slack-signature": postOptions.signature } : {}),
        ...postOptions.headers,
      });
    },
    openSockets: (app) => socketServer.openSockets(app.appId),
    maxOpenSockets: (app) => socketServer.maxOpenSockets(app.appId),
    resetMaxOpen: (app) => socketServer.resetMaxOpen(app.appId),
    disconnect: (app, reason, disconnectOptions) => socketServer.disconnect(app.appId, reason, disconnectOptions),
    silence: (socketId, mode = "half-open") => socketServer.silence(socketId, mode),
    dropSocket: (socketId) => socketServer.drop(socketId),
    dropAcks: (app, count) => socketServer.dropAcks(app.appId, count),
    holdHello: (app, hold) => socketServer.holdHello(app.appId, hold),
    sentTo: (channel, thread_ts) =>
      posted.filter(
        (message) => message.channel === channel && (thread_ts === undefined || message.thread_ts === thread_ts),
      ),
    async until(check, ms = 5_000) {
      const deadline = Date.now() + ms;
      while (!check()) {
        if (Date.now() > deadline) throw new Error(`fake slack: condition not met within ${ms} ms`);
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
    },
    goDown: down,
    comeBack: () => listen(port),
    async close() {
      socketServer.close();
      await down();
    },
  };
  return fake;
}
