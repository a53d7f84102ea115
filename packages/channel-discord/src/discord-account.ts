import { readFile } from "node:fs/promises";
import { basename, join } from "node:path";
import {
  ChannelAccountBase,
  type ChannelContext,
  type ChannelError,
  ChannelNetworkError,
  ChannelPluginError,
  chunkText,
  type MediaRef,
  type OutboundMessage,
  Pacer,
  retry,
  type SendResult,
} from "@gateway/plugin-sdk";
import {
  type APIGatewayBotInfo,
  type APIMessage,
  Client,
  Events,
  GatewayIntentBits,
  type Message,
  Options,
  Partials,
  type RawFile,
  Routes,
} from "discord.js";
import { downloadAttachments } from "./attachments.js";
import type { DiscordAccountConfig } from "./config.js";
import { classifyDiscordError, closeCodeName, fatalCloseError } from "./errors.js";
import { GatewayPacer, PacedShardingStrategy } from "./gateway-pacing.js";
import { guildAccess } from "./guild-access.js";
import { normalizeMessage, placeOf } from "./normalize.js";
import { SessionStartGuard } from "./session-starts.js";

/** Discord's limit per message. */
export const DISCORD_TEXT_LIMIT = 2000;
const DEFAULT_API_ROOT = "https://discord.com/api";
/** Message Content is the one privileged intent: without it guild messages arrive empty (4014 if not enabled). */
const INTENTS = [
  GatewayIntentBits.Guilds,
  GatewayIntentBits.GuildMessages,
  GatewayIntentBits.DirectMessages,
  GatewayIntentBits.MessageContent,
];
/** Never @everyone/@here or role pings from the agent's text; users it names and the person it replies to, yes. */
const ALLOWED_MENTIONS = { parse: ["users"], replied_user: true };

/** The gateway connection as `channels.status` describes it. */
interface GatewayState {
  state: "connecting" | "ready" | "reconnecting" | "waiting" | "fatal" | "stopped";
  lastCloseCode: number | undefined;
  latencyMs: number | undefined;
  /** A reconnect or IDENTIFY is held back: until when, and why. */
  waitingUntil: number | undefined;
  waitReason: string | undefined;
}

/** What `probe()` (and `channels status --probe --json`) reports. */
export interface DiscordProbe {
  ok: boolean;
  detail: string;
  bot?: { id: string; username: string };
  guilds?: number;
  gateway?: GatewayState["state"];
  lastCloseCode?: number | null;
  reconnects?: number;
  latencyMs?: number | null;
  identifiesToday?: number;
  sessionStartsRemaining?: number | null;
  /** While a reconnect or IDENTIFY is held back: when it goes. */
  nextAttemptAt?: number | null;
}

/**
 * One bot: discord.js on the gateway with a reconnect policy Discord never punishes (jittered backoff; RESUME when the
 * session survives, IDENTIFY only within the session start limit; 4004 and 4010–4014 fatal with the fix), DMs, guild
 * channels, threads and forum posts normalized (mentions of the bot or its role, replies to it), attachments saved to
 * the state dir, replies chunked to 2,000 characters in order per channel, paced, and rate limits honoured (discord.js
 * follows the rate-limit headers and waits out 429 `retry_after`).
 */
export class DiscordAccount extends ChannelAccountBase<DiscordAccountConfig> {
  readonly #apiRoot: string;
  readonly #pacing = new Pacer({ globalPerSecond: 40, perChatIntervalMs: 200 });
  readonly #queues = new Map<string, Promise<unknown>>();
  readonly #dmChannels = new Map<string, string>();
  #client: Client | undefined;
  #pacer: GatewayPacer | undefined;
  #guard: SessionStartGuard | undefined;
  #startDone = false;
  #gateway: GatewayState = {
    state: "stopped",
    lastCloseCode: undefined,
    latencyMs: undefined,
    waitingUntil: undefined,
    waitReason: undefined,
  };

  constructor(accountId: string, config: DiscordAccountConfig) {
    super(accountId, config);
    this.#apiRoot = (config.apiRoot ?? DEFAULT_API_ROOT).replace(/\/+$/, "");
  }

  protected override classify(operation: string, error: unknown): ChannelError {
    return classifyDiscordError(operation, error, this.#apiRoot);
  }

  protected async connect(context: ChannelContext, signal: AbortSignal): Promise<void> {
    const token = this.config.token;
    context.setStatus({ configured: Boolean(token) });
    if (!token)
      throw new ChannelPluginError(
        "start",
        `no bot token: set channels.discord${this.accountId === "default" ? "" : `.accounts.${this.accountId}`}.token (Developer Portal → your application → Bot → Reset Token)`,
        { fatal: true },
      );
    this.#startDone = false;
    this.#gateway = { ...this.#gateway, state: "connecting", lastCloseCode: undefined, waitingUntil: undefined };
    this.#guard = await SessionStartGuard.open({
      path: join(context.stateDir, "gateway-sessions.json"),
      fetchLimit: () => this.#fetchSessionStartLimit(),
    });
    const client = this.#createClient(context);
    this.#client = client;
    const ready = new Promise<void>((resolve) => client.once(Events.ClientReady, () => resolve()));
    const timeoutMs = this.config.startTimeoutMs ?? 30_000;
    let timer: NodeJS.Timeout | undefined;
    const stopped = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(this.#startTimedOut(timeoutMs)), timeoutMs);
      signal.addEventListener("abort", () => reject(new ChannelPluginError("start", "stopped while starting")), {
        once: true,
      });
    });
    try {
      await Promise.race([Promise.all([client.login(token), ready]), stopped]);
    } catch (error) {
      const code = this.#gateway.lastCloseCode;
      throw (code !== undefined ? fatalCloseError(code, error) : undefined) ?? this.classify("start", error);
    } finally {
      clearTimeout(timer);
    }
    this.#startDone = true;
    this.#gateway.state = "ready";
    this.#describe();
    context.logger.info(`discord: @${client.user?.username} connected (${client.guilds.cache.size} guilds)`);
  }

  /** The start reached no READY in time: say what the gateway was doing. */
  #startTimedOut(timeoutMs: number): ChannelNetworkError {
    const waiting =
      this.#gateway.state === "waiting" && this.#gateway.waitReason ? ` (${this.#gateway.waitReason})` : "";
    return new ChannelNetworkError(
      "start",
      `no READY from the Discord gateway within ${timeoutMs / 1000} s${waiting}${this.#lastClose()}`,
    );
  }

  #createClient(context: ChannelContext): Client {
    const client = new Client({
      intents: INTENTS,
      // DM channels are not cached before their first message: without this discord.js drops DMs silently.
      partials: [Partials.Channel],
      rest: { api: this.#apiRoot },
      allowedMentions: { parse: ["users"], repliedUser: true },
      makeCache: Options.cacheWithLimits({
        ...Options.DefaultMakeCacheSettings,
        MessageManager: 50,
        PresenceManager: 0,
        ReactionManager: 0,
        GuildEmojiManager: 0,
        GuildStickerManager: 0,
        VoiceStateManager: 0,
      }),
      ws: {
        buildStrategy: (manager) => new PacedShardingStrategy(manager, this.#createPacer(context)),
      },
    });
    client.on(Events.MessageCreate, (message) => {
      this.#onMessage(message).catch((error: unknown) =>
        context.logger.warn({ err: error }, "discord: handling a message failed"),
      );
    });
    client.on(Events.ShardDisconnect, (event) => this.#onFatalClose(event.code));
    client.on(Events.GuildCreate, () => this.#describe());
    client.on(Events.GuildDelete, () => this.#describe());
    client.on(Events.Error, (error) => context.logger.warn({ err: error }, "discord: client error"));
    client.on(Events.ShardError, (error) => context.logger.debug({ err: error }, "discord: gateway error"));
    return client;
  }

  /** What `GET /gateway/bot` says now about the session starts left. */
  async #fetchSessionStartLimit() {
    const client = this.#client;
    if (!client) throw new ChannelPluginError("gateway", "the Discord account is not running");
    const info = (await client.rest.get(Routes.gatewayBot())) as APIGatewayBotInfo;
    const limit = info.session_start_limit;
    return {
      total: limit.total,
      remaining: limit.remaining,
      resetAfterMs: limit.reset_after,
      maxConcurrency: limit.max_concurrency,
    };
  }

  #createPacer(context: ChannelContext): GatewayPacer {
    const pacer = new GatewayPacer(this.#requireGuard(), this.config.reconnect, {
      onWait: ({ attempt, delayMs, identify, reason }) => {
        this.#gateway.state = "waiting";
        this.#gateway.waitingUntil = Date.now() + delayMs;
        this.#gateway.waitReason =
          reason === "exhausted"
            ? "Discord's session start limit is nearly used up: no IDENTIFY until it resets"
            : reason === "budget"
              ? "spreading the remaining session starts until Discord resets them"
              : `reconnect attempt ${attempt}${identify ? " (new session)" : " (resume)"}`;
        context.logger.warn(
          `discord: ${this.#gateway.waitReason}; waiting ${Math.round(delayMs / 100) / 10} s${this.#lastClose()}`,
        );
        if (this.#startDone)
          context.setStatus({
            lastError: `${this.#gateway.waitReason}, next try in ${Math.round(delayMs / 100) / 10} s${this.#lastClose()}`,
          });
        this.#describe();
      },
      onConnected: (kind) => {
        this.#gateway.state = "ready";
        this.#gateway.waitingUntil = undefined;
        if (this.#startDone) {
          this.markConnected();
          context.logger.info(`discord: gateway ${kind === "resumed" ? "resumed" : "ready (new session)"}`);
        }
        this.#describe();
      },
      onClosed: (code) => {
        this.#gateway.lastCloseCode = code;
        if (fatalCloseError(code)) return;
        this.#gateway.state = "reconnecting";
        if (this.#startDone && this.connected)
          this.markReconnecting(
            pacer.attempt + 1,
            new ChannelNetworkError("gateway", `the gateway connection closed (${code} ${closeCodeName(code)})`),
          );
        this.#describe();
      },
      onHeartbeat: (latency) => {
        const rounded = Math.round(latency);
        if (rounded === this.#gateway.latencyMs) return;
        this.#gateway.latencyMs = rounded;
        this.#describe();
      },
    });
    this.#pacer = pacer;
    return pacer;
  }

  #requireGuard(): SessionStartGuard {
    if (!this.#guard) throw new ChannelPluginError("start", "the session start guard is not open");
    return this.#guard;
  }

  /** A close code discord.js will not recover from: the account stops with the fix. */
  #onFatalClose(code: number) {
    const error = fatalCloseError(code);
    if (!error) return;
    this.#gateway.lastCloseCode = code;
    this.#gateway.state = "fatal";
    this.#describe();
    // During the start the failed login reports it (with the same error); afterwards the gateway must hear it.
    if (this.#startDone) this.markFatal(error);
  }

  protected async disconnect(): Promise<void> {
    const client = this.#client;
    this.#client = undefined;
    this.#startDone = false;
    this.#pacer?.dispose();
    this.#pacer = undefined;
    if (this.#gateway.state !== "fatal") this.#gateway.state = "stopped";
    await client?.destroy();
    await this.#guard?.flush();
    this.#queues.clear();
  }

  // ---- inbound ------------------------------------------------------------------------------------------------

  async #onMessage(message: Message): Promise<void> {
    const client = this.#client;
    const botId = client?.user?.id;
    if (!client || !botId || !this.started) return;
    const normalized = normalizeMessage(message, botId, { allowBots: this.config.allowBots ?? false });
    if (!normalized) return;
    const context = this.context;
    const place = placeOf(message);
    if (place.guildId) {
      const decision = guildAccess(this.config.guilds, {
        guildId: place.guildId,
        channelId: place.peer,
        userId: message.author.id,
        username: message.author.username,
        roleIds: message.member ? [...message.member.roles.cache.keys()] : [],
      });
      if (!decision.allowed) {
        context.logger.debug(`discord: message ${message.id} ignored: ${decision.reason}`);
        return;
      }
    }
    const media: MediaRef[] = await downloadAttachments([...message.attachments.values()], {
      directory: join(context.stateDir, "media"),
      prefix: message.id,
      maxBytes: (this.config.mediaMaxMb ?? 20) * 1024 * 1024,
      onError: (error) => context.logger.warn({ err: error }, "discord: could not download an attachment"),
    });
    this.markInbound();
    context.receive(media.length ? { ...normalized, media } : normalized);
  }

  // ---- outbound -----------------------------------------------------------------------------------------------

  sendText(message: OutboundMessage): Promise<SendResult> {
    return this.#send("sendMessage", message, chunkText(message.text, DISCORD_TEXT_LIMIT), undefined);
  }

  async sendMedia(message: OutboundMessage & { media: MediaRef & { path: string } }): Promise<SendResult> {
    const data = await readFile(message.media.path).catch((error: Error) => {
      throw new ChannelPluginError("sendMedia", `cannot read ${message.media.path}: ${error.message}`, {
        fatal: true,
        cause: error,
      });
    });
    const file: RawFile = {
      name: message.media.fileName ?? basename(message.media.path),
      data,
      ...(message.media.mimeType ? { contentType: message.media.mimeType } : {}),
    };
    const chunks = message.text ? chunkText(message.text, DISCORD_TEXT_LIMIT) : [""];
    return this.#send("sendMedia", message, chunks, file);
  }

  async sendTyping(peer: string, threadId?: string): Promise<void> {
    const client = this.#requireClient("sendTyping");
    const target = await this.#target(client, peer, threadId);
    await this.#call("sendTyping", () => client.rest.post(Routes.channelTyping(target)));
  }

  async probe(): Promise<DiscordProbe> {
    const client = this.#client;
    if (!client) return { ok: false, detail: "not running" };
    try {
      const me = (await client.rest.get(Routes.user(), { signal: AbortSignal.timeout(10_000) })) as {
        id: string;
        username: string;
      };
      const estimate = this.#guard?.estimate;
      return {
        ok: true,
        detail: this.#summary(),
        bot: { id: me.id, username: me.username },
        guilds: client.guilds.cache.size,
        gateway: this.#gateway.state,
        lastCloseCode: this.#gateway.lastCloseCode ?? null,
        reconnects: this.#pacer?.reconnects ?? 0,
        latencyMs: this.#gateway.latencyMs ?? null,
        identifiesToday: this.#guard?.identifiesToday ?? 0,
        sessionStartsRemaining: estimate?.remaining ?? null,
        nextAttemptAt: this.#gateway.state === "waiting" ? (this.#gateway.waitingUntil ?? null) : null,
      };
    } catch (error) {
      return { ok: false, detail: this.classify("probe", error).message };
    }
  }

  /** Send the parts to one channel in order (a whole reply before the next one there), paced, the first replying. */
  async #send(
    operation: string,
    message: OutboundMessage,
    parts: string[],
    file: RawFile | undefined,
  ): Promise<SendResult> {
    const client = this.#requireClient(operation);
    const target = await this.#target(client, message.peer, message.threadId);
    const previous = this.#queues.get(target) ?? Promise.resolve();
    const run = previous
      .catch(() => undefined)
      .then(async () => {
        const ids: string[] = [];
        for (const [index, part] of parts.entries()) {
          const body = {
            content: part,
            allowed_mentions: ALLOWED_MENTIONS,
            ...(index === 0 && message.replyToMessageId
              ? { message_reference: { message_id: message.replyToMessageId, fail_if_not_exists: false } }
              : {}),
          };
          const files = index === 0 && file ? [file] : undefined;
          await this.#pacing.wait(target);
          const sent = await retry(
            () =>
              this.#call(operation, () =>
                client.rest.post(Routes.channelMessages(target), { body, ...(files ? { files } : {}) }),
              ) as Promise<APIMessage>,
            { attempts: 3, baseMs: 1_000, signal: this.signal },
          );
          ids.push(sent.id);
        }
        this.markOutbound();
        return { messageId: ids[0] ?? "", messageIds: ids };
      });
    this.#queues.set(target, run);
    const forget = () => {
      if (this.#queues.get(target) === run) this.#queues.delete(target);
    };
    run.then(forget, forget);
    return run;
  }

  /** The channel to post in: the thread, the DM channel of `user:<id>` (opened on first use), or the peer. */
  async #target(client: Client, peer: string, threadId: string | undefined): Promise<string> {
    if (threadId) return threadId;
    const user = /^user:(\d+)$/.exec(peer)?.[1];
    if (!user) return peer;
    const known = this.#dmChannels.get(user);
    if (known) return known;
    const channel = (await this.#call("createDM", () =>
      client.rest.post(Routes.userChannels(), { body: { recipient_id: user } }),
    )) as { id: string };
    this.#dmChannels.set(user, channel.id);
    return channel.id;
  }

  async #call<T>(operation: string, fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (error) {
      throw this.classify(operation, error);
    }
  }

  #requireClient(operation: string): Client {
    if (!this.#client || !this.#startDone)
      throw new ChannelPluginError(operation, "the Discord account is not running", { fatal: true });
    return this.#client;
  }

  // ---- status -------------------------------------------------------------------------------------------------

  #lastClose(): string {
    const code = this.#gateway.lastCloseCode;
    return code === undefined ? "" : ` (last close ${code} ${closeCodeName(code)})`;
  }

  /** One line for the MODE column of `channels status`: who, where, how the gateway is, how often it dropped. */
  #summary(): string {
    const client = this.#client;
    const guilds = client?.guilds.cache.size ?? 0;
    const parts = [
      client?.user ? `@${client.user.username}` : "gateway",
      `${guilds} guild${guilds === 1 ? "" : "s"}`,
      `gateway ${this.#gateway.state}`,
    ];
    if (this.#gateway.latencyMs !== undefined) parts.push(`ping ${this.#gateway.latencyMs} ms`);
    const reconnects = this.#pacer?.reconnects ?? 0;
    parts.push(`${reconnects} reconnect${reconnects === 1 ? "" : "s"}`);
    if (this.#gateway.lastCloseCode !== undefined)
      parts.push(`last close ${this.#gateway.lastCloseCode} ${closeCodeName(this.#gateway.lastCloseCode)}`);
    return parts.join(", ");
  }

  #describe(): void {
    if (!this.started) return;
    this.context.setStatus({ mode: this.#summary() });
  }
}
