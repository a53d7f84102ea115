import { basename, join } from "node:path";
import {
  ChannelAccountBase,
  type ChannelContext,
  type ChannelError,
  ChannelPlatformError,
  ChannelPluginError,
  type MediaRef,
  type OutboundMessage,
  Pacer,
  retry,
  type SendResult,
} from "@gateway/plugin-sdk";
import { App, type Logger, webApi } from "@slack/bolt";
import type { SlackAccountConfig } from "./config.js";
import { FleetEventDedupe, MemoryEventDedupe, type SlackEventDedupe } from "./dedupe.js";
import { classifySlackError } from "./errors.js";
import { downloadFiles, isSlackFileHost } from "./files.js";
import { markdownToMrkdwn, toSlackMessages } from "./format.js";
import { createEventsHandler } from "./http-events.js";
import { chatTypeOf, type NormalizedMessage, normalizeMessage, type SlackMessageEvent } from "./normalize.js";
import { GatewayReceiver } from "./receiver.js";
import { slackLogger } from "./slack-logger.js";
import { SocketLink } from "./socket-link.js";
import { TypingIndicator } from "./typing.js";
import { UserDirectory } from "./user-directory.js";

const DEFAULT_API_URL = "https://slack.com/api/";
/** Scopes without which part of the channel does not work, and what for. */
const NEEDED_SCOPES: Record<string, string> = {
  "chat:write": "replies",
  "im:history": "direct messages",
  "channels:history": "messages in public channels",
  "app_mentions:read": "mentions",
  "users:read": "sender names",
};

/** Who the token is (auth.test). */
interface Identity {
  teamId: string;
  team: string;
  botUserId: string;
  botId: string | undefined;
  botName: string;
  scopes: Set<string>;
}

/** Options of an account beyond its config. */
export interface SlackAccountOptions {
  /** Which delivery of an event is processed (one per event id). @default in memory, per account */
  dedupe?: SlackEventDedupe;
}

/**
 * One Slack app in one workspace, on Bolt: Socket Mode (a supervised link that replaces silent sockets and never
 * keeps more than two open) or the HTTP Events API on the gateway's port; messages in DMs, channels and threads
 * normalized (edits, deletions, bots and the bot itself ignored; a message and its app_mention passed on once);
 * replies as mrkdwn in 4,000-character chunks, paced to 1 per second per conversation and retried after 429s.
 */
export class SlackAccount extends ChannelAccountBase<SlackAccountConfig> {
  readonly #apiUrl: string;
  readonly #givenDedupe: SlackEventDedupe | undefined;
  #dedupe: SlackEventDedupe;
  readonly #botThreads = new Map<string, number>();
  readonly #pacer = new Pacer({ globalPerSecond: 20, perChatIntervalMs: 1_000 });
  #client: webApi.WebClient | undefined;
  /** Bolt's app: its receiver is ours; it routes events through its middleware to our listeners. */
  #app: App | undefined;
  #identity: Identity | undefined;
  #link: SocketLink | undefined;
  #typing: TypingIndicator | undefined;
  #users: UserDirectory | undefined;
  #lastMode = "";

  constructor(accountId: string, config: SlackAccountConfig, options: SlackAccountOptions = {}) {
    super(accountId, config);
    this.#apiUrl = config.apiUrl ?? DEFAULT_API_URL;
    this.#givenDedupe = options.dedupe;
    this.#dedupe = options.dedupe ?? new MemoryEventDedupe();
  }

  protected override classify(operation: string, error: unknown): ChannelError {
    return classifySlackError(operation, error, this.#apiUrl);
  }

  #setting(key: string): string {
    return `channels.slack${this.accountId === "default" ? "" : `.accounts.${this.accountId}`}.${key}`;
  }

  protected async connect(context: ChannelContext, signal: AbortSignal): Promise<void> {
    const { botToken, appToken, signingSecret } = this.config;
    const mode = this.config.mode ?? "socket";
    context.setStatus({ configured: Boolean(botToken), mode });
    if (!botToken)
      throw new ChannelPluginError(
        "start",
        `no bot token: set ${this.#setting("botToken")} (xoxb-…, from OAuth & Permissions)`,
        {
          fatal: true,
        },
      );
    if (mode === "socket" && !appToken)
      throw new ChannelPluginError(
        "start",
        `Socket Mode needs an app-level token: set ${this.#setting("appToken")} (xapp-…, Basic Information → App-Level Tokens, scope connections:write), or set mode: http`,
        { fatal: true },
      );
    if (mode === "http" && !signingSecret)
      throw new ChannelPluginError(
        "start",
        `HTTP mode needs the signing secret: set ${this.#setting("signingSecret")} (Basic Information → App Credentials)`,
        { fatal: true },
      );
    const logger = slackLogger(context.logger);
    const clientOptions = {
      slackApiUrl: this.#apiUrl,
      logger,
      // Retries are ours (paced, honouring Retry-After): the client's default waits up to 30 minutes.
      retryConfig: { retries: 0 },
      rejectRateLimitedCalls: true,
      timeout: 30_000,
    };
    const client = new webApi.WebClient(botToken, clientOptions);
    const identity = await this.#authTest(client);
    this.#client = client;
    this.#identity = identity;
    this.#users = new UserDirectory(client, context.logger);
    this.#users.set(identity.botUserId, { name: identity.botName, username: identity.botName });
    this.#typing = new TypingIndicator({
      mode: this.config.typingIndicator ?? "auto",
      reaction: this.config.typingReaction ?? "eyes",
      scopes: identity.scopes,
      client,
      logger: context.logger,
      replyThread: (peer, ts) => this.#replyThread(peer, undefined, ts),
    });
    const missing = Object.entries(NEEDED_SCOPES).filter(
      ([scope]) => identity.scopes.size && !identity.scopes.has(scope),
    );
    if (missing.length)
      context.logger.warn(
        `slack: the app lacks ${missing.map(([scope, what]) => `${scope} (${what})`).join(", ")}: add them under OAuth & Permissions → Bot Token Scopes and reinstall the app`,
      );
    // In a fleet every instance keeps a socket open (Slack spreads events over them): each event is claimed fleet-wide.
    if (!this.#givenDedupe && context.claimOnce && !(this.#dedupe instanceof FleetEventDedupe))
      this.#dedupe = new FleetEventDedupe(context.claimOnce);
    const receiver = new GatewayReceiver(this.#dedupe, context.logger);
    this.#app = this.#createApp(botToken, identity, receiver, logger, clientOptions);
    if (mode === "http") this.#receiveHttp(context, receiver, signingSecret!, identity);
    else await this.#receiveSocket(context, signal, receiver, appToken!, logger, identity);
    this.#statusChanged();
  }

  /** HTTP Events API: a route on the gateway's port, each request's signature checked. */
  #receiveHttp(context: ChannelContext, receiver: GatewayReceiver, signingSecret: string, identity: Identity): void {
    const path = context.registerHttpRoute({
      method: "POST",
      path: "events",
      handle: createEventsHandler({
        signingSecret,
        logger: context.logger,
        onEvent: (body, retryNum, retryReason) =>
          void receiver
            .dispatch(body, retryNum, retryReason)
            .catch((error: unknown) => context.logger.warn({ err: error }, "slack: an event failed")),
      }),
    });
    context.logger.info(`slack: ${identity.team} @${identity.botName} receiving events at ${path} (HTTP)`);
  }

  /** Socket Mode: the first connection now (a failure fails the start), then kept up by the supervisor. */
  async #receiveSocket(
    context: ChannelContext,
    signal: AbortSignal,
    receiver: GatewayReceiver,
    appToken: string,
    logger: Logger,
    identity: Identity,
  ): Promise<void> {
    const link = new SocketLink({
      appToken,
      apiUrl: this.#apiUrl,
      logger: context.logger,
      slackLogger: logger,
      clientPingTimeoutMs: this.config.socket?.clientPingTimeoutMs ?? 5_000,
      serverPingTimeoutMs: this.config.socket?.serverPingTimeoutMs ?? 30_000,
      silenceMs: this.config.socket?.silenceMs ?? 35_000,
      helloTimeoutMs: this.config.socket?.helloTimeoutMs ?? 10_000,
      onEnvelope: (envelope) => {
        envelope
          .ack()
          .then(
            () =>
              envelope.type === "events_api"
                ? receiver.dispatch(envelope.body, envelope.retryNum, envelope.retryReason)
                : undefined,
            // Not acked: Slack sends it again (to this or another connection); nothing was claimed, nothing is lost.
            (error: unknown) =>
              context.logger.debug(`slack: an ack failed (${(error as Error).message}); Slack will retry`),
          )
          .catch((error: unknown) => context.logger.warn({ err: error }, "slack: an event failed"));
      },
      onChange: () => this.#statusChanged(),
    });
    this.#link = link;
    await link.start(signal);
    this.supervise((loopSignal, connected) => link.run(loopSignal, connected), { baseMs: 1_000, maxMs: 120_000 });
    context.logger.info(`slack: ${identity.team} @${identity.botName} connected (Socket Mode)`);
  }

  protected async disconnect(): Promise<void> {
    await this.#link?.close();
    this.#link = undefined;
    await this.#typing?.clear();
    await this.#app?.stop();
    this.#app = undefined;
    this.#client = undefined;
  }

  async #authTest(client: webApi.WebClient): Promise<Identity> {
    try {
      const result = await client.auth.test();
      return {
        teamId: result.team_id ?? "",
        team: result.team ?? result.team_id ?? "",
        botUserId: result.user_id ?? "",
        botId: result.bot_id,
        botName: result.user ?? "bot",
        scopes: new Set(result.response_metadata?.scopes ?? []),
      };
    } catch (error) {
      throw classifySlackError("auth.test", error, this.#apiUrl);
    }
  }

  #createApp(
    token: string,
    identity: Identity,
    receiver: GatewayReceiver,
    logger: Logger,
    clientOptions: webApi.WebClientOptions,
  ): App {
    const app = new App({
      token,
      botId: identity.botId ?? "",
      botUserId: identity.botUserId,
      receiver,
      logger,
      clientOptions,
      convoStore: false,
    });
    const onMessage = async ({ event }: { event: unknown }) => this.#onEvent(event as SlackMessageEvent);
    app.event("message", onMessage);
    app.event("app_mention", onMessage);
    // The app was uninstalled or its bot token revoked while running: every call would fail from now on.
    app.event("app_uninstalled", async () =>
      this.#lost(
        "app_uninstalled",
        "the app was uninstalled from the workspace (app_uninstalled): reinstall it and copy the new tokens",
      ),
    );
    app.event("tokens_revoked", async ({ event }) => {
      if ((event as { tokens?: { bot?: string[] } }).tokens?.bot?.length)
        this.#lost(
          "tokens_revoked",
          "the bot token was revoked (tokens_revoked): reinstall the app and copy the new Bot User OAuth Token",
        );
    });
    app.error(async (error) => this.context.logger.warn({ err: error }, "slack: handling an event failed"));
    return app;
  }

  #lost(code: string, message: string): void {
    void this.#link?.close();
    this.markFatal(new ChannelPlatformError("event", message, { status: code, fatal: true }));
  }

  async #onEvent(event: SlackMessageEvent): Promise<void> {
    const identity = this.#identity;
    const users = this.#users;
    if (!identity || !users || !this.started) return;
    // A message and its app_mention are two events (two event ids) of one message: passed on once. Through the same
    // dedupe, so gateways sharing the app do not both answer when the two events reach different ones.
    const claimed = this.#dedupe.claim(`message:${event.channel}:${event.ts}`);
    if (!(typeof claimed === "boolean" ? claimed : await claimed)) return;
    const mentioned = [...(event.text ?? "").matchAll(/<@([A-Z0-9]+)(?:\|[^>]*)?>/g)].map((match) => match[1]!);
    if (event.user) await users.load([event.user, ...mentioned]);
    const normalized = normalizeMessage(event, {
      botUserId: identity.botUserId,
      botId: identity.botId,
      names: (userId) => users.get(userId)?.name,
      inBotThread: (channel, thread) => this.#botThreads.has(`${channel}:${thread}`),
    });
    if (!normalized) return;
    const username = event.user ? users.get(event.user)?.username : undefined;
    let message: NormalizedMessage = username
      ? { ...normalized, sender: { ...normalized.sender, username } }
      : normalized;
    if (event.files?.length) message = { ...message, media: await this.#download(event) };
    this.#typing?.remember(message.peer, message.threadId, message.messageId);
    this.markInbound();
    this.context.receive(message);
  }

  async #download(event: SlackMessageEvent): Promise<MediaRef[]> {
    const apiOrigin = new URL(this.#apiUrl).origin;
    return downloadFiles(event.files ?? [], event.ts, {
      client: this.#client!,
      botToken: this.config.botToken!,
      trustedOrigin: (url) => isSlackFileHost(url) || url.origin === apiOrigin,
      directory: join(this.context.stateDir, "media"),
      maxBytes: (this.config.mediaMaxMb ?? 20) * 1024 * 1024,
      logger: this.context.logger,
    }).catch((error: unknown) => {
      this.context.logger.warn({ err: error }, "slack: could not download the files of a message");
      return [];
    });
  }

  /** The thread a reply goes to: the message's own thread, else (replyInThread, not a DM) a new one under it. */
  #replyThread(peer: string, threadId: string | undefined, replyTo: string | undefined): string | undefined {
    if (threadId) return threadId;
    if (this.config.replyInThread && replyTo && chatTypeOf(peer) !== "direct") return replyTo;
    return undefined;
  }

  async sendText(message: OutboundMessage): Promise<SendResult> {
    const client = this.#requireClient("chat.postMessage");
    const thread = this.#replyThread(message.peer, message.threadId, message.replyToMessageId);
    const ids: string[] = [];
    for (const text of toSlackMessages(message.text)) {
      await this.#pacer.wait(message.peer);
      const posted = await retry(
        () =>
          this.#call("chat.postMessage", () =>
            client.chat.postMessage({
              channel: message.peer,
              text,
              ...(thread ? { thread_ts: thread } : {}),
              unfurl_links: false,
              unfurl_media: false,
            }),
          ),
        { attempts: 4, baseMs: 1_000 },
      );
      ids.push(posted.ts ?? "");
    }
    this.#afterReply(message, thread);
    return { messageId: ids[0] ?? "", messageIds: ids };
  }

  /** Send a file with `text` as its comment (files.uploadV2), in the same thread rules as text. */
  async sendMedia(message: OutboundMessage & { media: MediaRef & { path: string } }): Promise<SendResult> {
    const client = this.#requireClient("files.uploadV2");
    const thread = this.#replyThread(message.peer, message.threadId, message.replyToMessageId);
    await this.#pacer.wait(message.peer);
    const filename = message.media.fileName ?? basename(message.media.path);
    const result = await retry(
      () =>
        this.#call("files.uploadV2", () =>
          client.filesUploadV2({
            channel_id: message.peer,
            file: message.media.path,
            filename,
            title: filename,
            ...(message.text ? { initial_comment: markdownToMrkdwn(message.text) } : {}),
            ...(thread ? { thread_ts: thread } : {}),
          } as webApi.FilesUploadV2Arguments),
        ),
      { attempts: 3, baseMs: 1_000 },
    );
    const ids = (result.files ?? []).flatMap((completed) =>
      ((completed as { files?: Array<{ id?: string }> }).files ?? []).map((file) => file.id ?? ""),
    );
    this.#afterReply(message, thread);
    return { messageId: ids[0] ?? "", messageIds: ids };
  }

  #afterReply(message: OutboundMessage, thread: string | undefined): void {
    if (thread) {
      // Replies in a thread the bot posted in are addressed to it (no mention needed to go on).
      this.#botThreads.set(`${message.peer}:${thread}`, Date.now());
      if (this.#botThreads.size > 5_000) this.#botThreads.delete(this.#botThreads.keys().next().value!);
    }
    void this.#typing?.done(message.peer, message.threadId, message.replyToMessageId);
    this.markOutbound();
  }

  async sendTyping(peer: string, threadId?: string): Promise<void> {
    await this.#typing?.show(peer, threadId);
  }

  async probe(): Promise<{ ok: boolean; detail?: string }> {
    const client = this.#client;
    if (!client) return { ok: false, detail: "not running" };
    try {
      this.#identity = { ...(await this.#authTest(client)) };
      return { ok: true, detail: this.#describe() };
    } catch (error) {
      return { ok: false, detail: (error as Error).message };
    }
  }

  /** The mode column of `channels status`: team, bot, socket state, reconnects, the last disconnect reason. */
  #describe(): string {
    const identity = this.#identity;
    const who = identity ? `${identity.team} @${identity.botName}` : "";
    if ((this.config.mode ?? "socket") === "http") return `http, ${who}`;
    const link = this.#link?.state;
    if (!link) return `socket, ${who}`;
    const sockets = `${link.openSockets} socket${link.openSockets === 1 ? "" : "s"}`;
    const last = link.lastDisconnectReason ? `, last disconnect: ${link.lastDisconnectReason}` : "";
    return `socket ${link.state} (${sockets}), ${who}, ${link.reconnects} reconnects${last}`;
  }

  #statusChanged(): void {
    if (!this.started) return;
    const mode = this.#describe();
    if (mode === this.#lastMode) return;
    this.#lastMode = mode;
    const state = this.#link?.state.state;
    this.context.setStatus({
      mode,
      ...(state === "reconnecting"
        ? { connected: false }
        : state === "open" && this.connected
          ? { connected: true }
          : {}),
    });
  }

  /** The socket link's state, for tests and the benchmark (undefined in HTTP mode). */
  get socketState() {
    return this.#link?.state;
  }

  async #call<T>(operation: string, fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (error) {
      throw classifySlackError(operation, error, this.#apiUrl);
    }
  }

  #requireClient(operation: string): webApi.WebClient {
    if (!this.#client) throw new ChannelPluginError(operation, "the Slack account is not running", { fatal: true });
    return this.#client;
  }
}
