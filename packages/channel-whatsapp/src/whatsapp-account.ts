import { join } from "node:path";
import {
  ChannelAccountBase,
  type ChannelContext,
  ChannelError,
  type ChannelLoginState,
  ChannelNetworkError,
  ChannelPlatformError,
  ChannelPluginError,
  type ChannelStatus,
  type MediaRef,
  type OutboundMessage,
  type SendResult,
  toChannelError,
} from "@gateway/plugin-sdk";
import { Browsers, makeCacheableSignalKeyStore, proto, type WAMessage } from "@whiskeysockets/baileys";
import { type AuthLock, lockCredentials } from "./auth-lock.js";
import { AuthStore, type AuthStoreOptions } from "./auth-store.js";
import type { WhatsAppAccountConfig } from "./config.js";
import {
  type ConnectionState,
  type DisconnectDecision,
  decideDisconnect,
  describeDisconnect,
  disconnectCode,
} from "./disconnect.js";
import { e164Of, IdentityDirectory, normalizeJid } from "./identity.js";
import { WhatsAppLogin } from "./login.js";
import { saveMedia } from "./media.js";
import { mediaPartOf, type NormalizedMessage, normalizeMessage, type SelfIdentity } from "./normalize.js";
import { WhatsAppOutbound } from "./outbound.js";
import { quietLibsignal } from "./quiet-libsignal.js";
import { bridgeLogger, type WhatsAppSocket, type WhatsAppSocketFactory, type WhatsAppSocketOptions } from "./socket.js";

/** The WA Web version Baileys 7.0.0-rc14 ships (never fetched from the network). */
export const DEFAULT_WA_VERSION: [number, number, number] = [2, 3000, 1043857760];

/** What `channels.status` shows for a WhatsApp account beyond the common fields (passed through `setStatus`). */
export interface WhatsAppStatusFields {
  connectionState: ConnectionState;
  /** The linked phone number, `+15551234567`. */
  linkedNumber: string | null;
  /** The linked account's LID, `123456789@lid`. */
  lid: string | null;
  lastDisconnect: { code: number | null; reason: string; at: number } | null;
}

/** How the account is built: the socket factory (tests pass a fake). */
export interface WhatsAppAccountOptions {
  socketFactory: WhatsAppSocketFactory;
}

/** A socket that reached "open", and the close that will end it. */
interface OpenSession {
  socket: WhatsAppSocket;
  closed: Promise<DisconnectDecision>;
}

const appStateRevive = (type: string, value: unknown) =>
  type === "app-state-sync-key" && value ? proto.Message.AppStateSyncKeyData.fromObject(value as object) : value;

/**
 * One linked WhatsApp number on Baileys: durable auth state, reconnects by WhatsApp's disconnect codes (401 wipes the
 * credentials and stops, 440 stops, 515 reconnects at once, the rest back off with jitter), inbound DMs and groups
 * normalized with LID identities and media saved under a cap, replies chunked at 4096, rendered to WhatsApp's
 * formatting and paced to one message per second per chat.
 */
export class WhatsAppAccount extends ChannelAccountBase<WhatsAppAccountConfig> {
  readonly #factory: WhatsAppSocketFactory;
  readonly #directory = new IdentityDirectory();
  readonly #self: SelfIdentity = { ids: new Set() };
  readonly #outbound: WhatsAppOutbound;
  readonly #chains = new Map<string, Promise<void>>();
  #lastContext: ChannelContext | undefined;
  #store: AuthStore | undefined;
  #lock: AuthLock | undefined;
  #releaseConsole: (() => void) | undefined;
  #socket: WhatsAppSocket | undefined;
  #open = false;
  #openWaiters = new Set<() => void>();
  #login: WhatsAppLogin | undefined;
  #status: WhatsAppStatusFields = { connectionState: "stopped", linkedNumber: null, lid: null, lastDisconnect: null };

  constructor(accountId: string, config: WhatsAppAccountConfig, options: WhatsAppAccountOptions) {
    super(accountId, config);
    this.#factory = options.socketFactory;
    this.#outbound = new WhatsAppOutbound({
      directory: this.#directory,
      quoteReplies: config.quoteReplies ?? "groups",
      openSocket: (operation, timeoutMs) => this.#openSocket(operation, timeoutMs),
      classify: (operation, error) => this.classify(operation, error),
    });
  }

  /** The command that links this account (in error messages). */
  get loginCommand(): string {
    return `gateway channels login whatsapp${this.accountId === "default" ? "" : ` --account ${this.accountId}`}`;
  }

  /** The WhatsApp-specific status fields as they are now. */
  get whatsappStatus(): WhatsAppStatusFields {
    return { ...this.#status };
  }

  protected override classify(operation: string, error: unknown): ChannelError {
    if (ChannelError.isInstance(error)) return error;
    const code = disconnectCode(error);
    if (code === 428 || code === 408)
      return new ChannelNetworkError(operation, `WhatsApp is not connected (${describeDisconnect(code, error)})`, {
        cause: error,
      });
    if (code !== undefined)
      return new ChannelPlatformError(operation, describeDisconnect(code, error), { status: code, cause: error });
    return toChannelError(operation, error);
  }

  #setStatus(patch: Partial<WhatsAppStatusFields>): void {
    this.#status = { ...this.#status, ...patch };
    const { connectionState, linkedNumber, lid, lastDisconnect } = this.#status;
    this.#lastContext?.setStatus({
      linked: linkedNumber !== null || connectionState === "open",
      details: { connectionState, linkedNumber, lid, lastDisconnect },
    });
  }

  #authDir(context: ChannelContext | undefined): string {
    if (this.config.authDir) return this.config.authDir;
    if (!context)
      throw new ChannelPluginError("login", "the account has not been started (its state dir comes with the start)", {
        fatal: true,
      });
    return join(context.stateDir, "credentials");
  }

  #socketOptions(logger = this.#lastContext?.logger): Omit<WhatsAppSocketOptions, "auth" | "getMessage"> {
    const version = this.config.waVersion?.split(".").map(Number) as [number, number, number] | undefined;
    return {
      ...(this.config.waWebSocketUrl ? { waWebSocketUrl: this.config.waWebSocketUrl } : {}),
      version: version ?? DEFAULT_WA_VERSION,
      // A desktop browser identity: WhatsApp accepts pairing codes for it.
      browser: Browsers.macOS("Chrome") as [string, string, string],
      connectTimeoutMs: this.config.connectTimeoutMs ?? 20_000,
      logger: bridgeLogger(logger ?? { debug() {}, info() {}, warn() {}, error() {} }),
    };
  }

  #storeOptions(): AuthStoreOptions {
    return {
      revive: appStateRevive,
      onError: (error) => this.#lastContext?.logger.error({ err: error }, "whatsapp: writing the auth state failed"),
    };
  }

  // ---- connection -----------------------------------------------------------------------------------------------

  protected async connect(context: ChannelContext, signal: AbortSignal): Promise<void> {
    this.#lastContext = context;
    const root = this.#authDir(context);
    const lock = await lockCredentials(root);
    if ("heldBy" in lock)
      throw new ChannelPluginError(
        "start",
        `the WhatsApp credentials in ${root} are in use by ${lock.heldBy === process.pid ? "another account of this gateway" : `process ${lock.heldBy}`}: one session has one owner (give each account its own authDir, or stop the other gateway)`,
        { fatal: true },
      );
    this.#lock = lock;
    const store = await AuthStore.open(root, this.#storeOptions());
    if (!store?.creds.me) {
      await store?.close();
      this.#setStatus({ connectionState: "not-linked", linkedNumber: null, lid: null });
      throw new ChannelPluginError("start", `not linked to a phone yet: run ${this.loginCommand}`, { fatal: true });
    }
    this.#store = store;
    this.#releaseConsole ??= quietLibsignal((line) => context.logger.debug(line));
    this.#noteSelf((store.creds.me as { id: string; lid?: string }).id, (store.creds.me as { lid?: string }).lid);
    // The first connection is part of the start: a refused one fails it (fatal or retried by the gateway).
    let first: OpenSession | undefined = await this.#openSession(signal);
    this.supervise(
      async (loopSignal, connected) => {
        const session = first ?? (await this.#openSession(loopSignal));
        first = undefined;
        connected();
        const decision = await session.closed;
        if (loopSignal.aborted) return;
        await this.#afterClose(decision);
      },
      { baseMs: this.config.reconnect?.baseMs ?? 2_000, maxMs: this.config.reconnect?.maxMs ?? 60_000 },
    );
  }

  /** Open sockets until one reaches "open" (515 restarts at once, a few times); the others' closes throw. */
  async #openSession(signal: AbortSignal): Promise<OpenSession> {
    for (let restarts = 0; ; restarts++) {
      if (signal.aborted) throw new ChannelNetworkError("connect", "stopped");
      this.#setStatus({ connectionState: "connecting" });
      const attempt = this.#createSocket(signal);
      const outcome = await attempt.opened;
      if (outcome === "open") return { socket: attempt.socket, closed: attempt.closed };
      if (outcome.action !== "restart")
        await this.#afterClose(outcome); // throws
      else if (restarts >= 5)
        throw new ChannelNetworkError("connect", "WhatsApp asked for a restart (515) six times in a row");
    }
  }

  /** Act on a close: status, wipe, and throw what the supervisor (or the start) needs to see. */
  async #afterClose(decision: DisconnectDecision): Promise<void> {
    if (decision.action === "restart") return; // the supervisor makes a new socket at once
    if (decision.action === "retry") {
      this.#setStatus({ connectionState: "reconnecting" });
      throw decision.error;
    }
    this.#setStatus({ connectionState: decision.state });
    if (decision.wipe) {
      const root = this.#authDir(this.#lastContext);
      await this.#store?.close();
      this.#store = undefined;
      await AuthStore.clear(root);
      this.#setStatus({ linkedNumber: null, lid: null });
    }
    throw decision.error;
  }

  #createSocket(signal: AbortSignal): {
    socket: WhatsAppSocket;
    opened: Promise<"open" | DisconnectDecision>;
    closed: Promise<DisconnectDecision>;
  } {
    const store = this.#store!;
    const context = this.context;
    const options = this.#socketOptions(context.logger);
    const socket = this.#factory({
      ...options,
      auth: { creds: store.creds as never, keys: makeCacheableSignalKeyStore(store.keys as never, options.logger) },
      getMessage: async (key) => (key.id ? this.#outbound.sentMessage(key.id) : undefined),
    });
    this.#socket = socket;
    let resolveOpened!: (value: "open" | DisconnectDecision) => void;
    let resolveClosed!: (value: DisconnectDecision) => void;
    const opened = new Promise<"open" | DisconnectDecision>((resolve) => {
      resolveOpened = resolve;
    });
    const closed = new Promise<DisconnectDecision>((resolve) => {
      resolveClosed = resolve;
    });
    const onAbort = () => socket.end(undefined);
    signal.addEventListener("abort", onAbort, { once: true });
    socket.ev.on("creds.update", (update) => {
      Object.assign(store.creds, update);
      store.saveCreds().catch(() => undefined); // reported by the store's onError
      if (update.me?.id) this.#noteSelf(update.me.id, update.me.lid);
    });
    socket.ev.on("messages.upsert", (upsert) => {
      // notify = arrived live; append/history = sync of the past, never replayed into the agent.
      if (upsert.type !== "notify") return;
      for (const message of upsert.messages) this.#onMessage(socket, message);
    });
    socket.ev.on("lid-mapping.update", (mapping) => this.#directory.learn(mapping.lid, mapping.pn));
    const learnContacts = (
      contacts: Array<{ id?: string | null; lid?: string | null; phoneNumber?: string | null }>,
    ) => {
      for (const contact of contacts) {
        this.#directory.learn(contact.id, contact.lid);
        this.#directory.learn(contact.id, contact.phoneNumber);
        this.#directory.learn(contact.lid, contact.phoneNumber);
      }
    };
    socket.ev.on("contacts.upsert", learnContacts);
    socket.ev.on("contacts.update", learnContacts);
    socket.ev.on("connection.update", (update) => {
      if (update.connection === "open") {
        const user = socket.user;
        if (user) this.#noteSelf(user.id, user.lid);
        this.#open = true;
        this.#setStatus({ connectionState: "open" });
        for (const waiter of this.#openWaiters) waiter();
        resolveOpened("open");
      }
      if (update.connection === "close") {
        signal.removeEventListener("abort", onAbort);
        if (this.#socket === socket) {
          this.#socket = undefined;
          this.#open = false;
        }
        const error = update.lastDisconnect?.error;
        const decision = decideDisconnect(error, this.loginCommand);
        const code = disconnectCode(error);
        this.#setStatus({ lastDisconnect: { code: code ?? null, reason: decision.reason, at: Date.now() } });
        if (!signal.aborted) context.logger.info(`whatsapp: connection closed (${decision.reason})`);
        resolveOpened(decision);
        resolveClosed(decision);
      }
    });
    return { socket, opened, closed };
  }

  #noteSelf(id: string, lid?: string): void {
    const phone = normalizeJid(id);
    this.#self.ids.add(phone);
    if (lid) {
      this.#self.ids.add(normalizeJid(lid));
      this.#directory.learn(phone, lid);
    }
    this.#setStatus({ linkedNumber: e164Of(phone), ...(lid ? { lid: normalizeJid(lid) } : {}) });
  }

  /** Stop receiving; a login in progress is cancelled too (its staged credentials removed). */
  override async stop(): Promise<void> {
    const login = this.#login;
    this.#login = undefined;
    await login?.cancel();
    await super.stop();
  }

  protected async disconnect(): Promise<void> {
    const socket = this.#socket;
    this.#socket = undefined;
    this.#open = false;
    try {
      socket?.end(undefined);
    } catch {
      // already closed
    }
    await Promise.allSettled([...this.#chains.values()]);
    await this.#store?.close();
    this.#store = undefined;
    await this.#lock?.release();
    this.#lock = undefined;
    this.#releaseConsole?.();
    this.#releaseConsole = undefined;
    if (this.#status.connectionState === "open" || this.#status.connectionState === "connecting")
      this.#setStatus({ connectionState: "stopped" });
  }

  // ---- inbound --------------------------------------------------------------------------------------------------

  #onMessage(socket: WhatsAppSocket, message: WAMessage): void {
    const normalized = normalizeMessage(message, this.#self, this.#directory);
    if (!normalized) return;
    this.#outbound.rememberInbound(normalized.messageId, message);
    // One chain per chat: a message waiting for its media does not let the next one overtake it.
    const previous = this.#chains.get(normalized.peer) ?? Promise.resolve();
    const next = previous.then(() => this.#deliver(socket, message, normalized));
    this.#chains.set(normalized.peer, next);
    void next.finally(() => {
      if (this.#chains.get(normalized.peer) === next) this.#chains.delete(normalized.peer);
    });
  }

  async #deliver(socket: WhatsAppSocket, message: WAMessage, normalized: NormalizedMessage): Promise<void> {
    const context = this.#lastContext;
    if (!context) return;
    let inbound: NormalizedMessage = normalized;
    const part = mediaPartOf(message);
    if (part) {
      const saved = await saveMedia(part, {
        directory: join(context.stateDir, "media"),
        messageId: normalized.messageId,
        maxBytes: (this.config.mediaMaxMb ?? 20) * 1024 * 1024,
      }).catch((error: unknown) => {
        context.logger.warn({ err: error }, "whatsapp: could not download a file");
        return part.reference;
      });
      inbound = { ...normalized, media: [saved] };
    }
    if (this.config.sendReadReceipts !== false)
      socket
        .readMessages([message.key])
        .catch((error: Error) => context.logger.debug(`whatsapp: read receipt: ${error.message}`));
    this.markInbound();
    context.receive(inbound);
  }

  // ---- outbound -------------------------------------------------------------------------------------------------

  /** The socket once it is open (waits a little during a reconnect). */
  async #openSocket(operation: string, timeoutMs = 10_000): Promise<WhatsAppSocket> {
    if (!this.started) throw new ChannelPluginError(operation, "the WhatsApp account is not running", { fatal: true });
    if (!this.#open || !this.#socket) {
      await new Promise<void>((resolve) => {
        const done = () => {
          clearTimeout(timer);
          this.#openWaiters.delete(done);
          resolve();
        };
        const timer = setTimeout(done, timeoutMs);
        this.#openWaiters.add(done);
      });
    }
    if (!this.#open || !this.#socket)
      throw new ChannelNetworkError(operation, `WhatsApp is not connected (${this.#status.connectionState})`);
    return this.#socket;
  }

  async sendText(message: OutboundMessage): Promise<SendResult> {
    const result = await this.#outbound.sendText(message);
    this.markOutbound();
    return result;
  }

  /** Images go as images (the caption under them), anything else as a document with its file name. */
  async sendMedia(message: OutboundMessage & { media: MediaRef & { path: string } }): Promise<SendResult> {
    const result = await this.#outbound.sendMedia(message);
    this.markOutbound();
    return result;
  }

  /** "typing…" (WhatsApp's `composing` presence) in a chat. */
  sendTyping(peer: string): Promise<void> {
    return this.#outbound.sendTyping(peer);
  }

  async probe(): Promise<{ ok: boolean; detail?: string }> {
    if (!this.#open) return { ok: false, detail: this.#status.connectionState };
    return { ok: true, detail: this.#status.linkedNumber ?? "linked" };
  }

  // ---- login ----------------------------------------------------------------------------------------------------

  /**
   * Link a phone: a QR (or, with `phoneNumber`, a pairing code) to show the user. A running account is stopped first
   * when `force` relinks it. When `loginWait` reports `connected`, the credentials are stored: start the account
   * (again) to receive.
   */
  async loginStart(options: { force?: boolean; phoneNumber?: string; timeoutMs?: number }): Promise<ChannelLoginState> {
    const root = this.#authDir(this.#lastContext);
    // One login at a time; a forced relink stops the running session first (two sockets would replace each other).
    if (options.force && this.started) await this.stop();
    else await this.#login?.cancel();
    const login = new WhatsAppLogin({
      root,
      factory: this.#factory,
      socket: this.#socketOptions(),
      store: this.#storeOptions(),
      logger: this.#lastContext?.logger ?? { debug() {}, info() {}, warn() {}, error() {} },
    });
    this.#login = login;
    const state = await login.start(options);
    if (login.finished) this.#login = undefined;
    return state;
  }

  async loginWait(options: { timeoutMs: number }): Promise<ChannelLoginState> {
    const login = this.#login;
    if (!login) {
      const linked = await AuthStore.exists(this.#authDir(this.#lastContext));
      return { connected: linked, message: linked ? "linked" : "no login in progress: start one (loginStart)" };
    }
    const state = await login.wait(options);
    if (login.finished && this.#login === login) this.#login = undefined;
    return state;
  }

  /** Unlink: tell WhatsApp when connected, stop, and remove the credentials. */
  async logout(): Promise<boolean> {
    await this.#login?.cancel();
    this.#login = undefined;
    const root = this.#authDir(this.#lastContext);
    const socket = this.#open ? this.#socket : undefined;
    await socket?.logout().catch(() => undefined);
    if (this.started) await this.stop();
    const cleared = await AuthStore.clear(root);
    this.#setStatus({ connectionState: "logged-out", linkedNumber: null, lid: null });
    return cleared;
  }
}
