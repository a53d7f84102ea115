import type { TObject } from "@sinclair/typebox";

/** Kinds of conversation a platform has. */
export type ChatType = "direct" | "group" | "channel" | "thread";

/** A file that came with a message, saved in the account's state dir. */
export interface MediaRef {
  kind: "photo" | "document" | "audio" | "video" | "voice" | "sticker";
  /** Where the plugin saved it (under its state dir). */
  path?: string;
  mimeType?: string;
  fileName?: string;
  size?: number;
}

/** A message from a platform, normalized. */
export interface InboundMessage {
  channel: string;
  accountId: string;
  chatType: ChatType;
  /** The conversation: the sender's chat for DMs, the group/channel id otherwise. */
  peer: string;
  /**
   * `aliases`: other ids of the same person, matched like `id` by allowlists and pairing (WhatsApp: the phone-number
   * forms of someone who writes by a privacy id, so `allowFrom: ["+15551234567"]` still admits them).
   */
  sender: { id: string; name?: string; username?: string; aliases?: string[] };
  text: string;
  media?: MediaRef[];
  /** A forum topic or thread inside `peer`. */
  threadId?: string;
  replyTo?: { messageId: string; senderId?: string; isFromBot?: boolean };
  /** The bot was mentioned by name (or the message replies to the bot). */
  wasMentioned: boolean;
  /** The platform's id of the message. */
  messageId: string;
  timestamp: number;
  /** The platform's object, for plugins' own needs; never serialized. */
  raw?: unknown;
}

/** A message to a platform. `text` may exceed the limit: the plugin chunks it. */
export interface OutboundMessage {
  peer: string;
  text: string;
  threadId?: string;
  replyToMessageId?: string;
}

/** What a send returns: the platform's id of every message sent, in order (several when chunked). */
export interface SendResult {
  messageId: string;
  messageIds: string[];
}

/** The status of one account, as `channels.status` shows it. */
export interface ChannelStatus {
  configured: boolean;
  running: boolean;
  connected: boolean;
  /** A fatal error (a revoked token, another process polling) stops the account without retries. */
  fatal: boolean;
  lastError: string | null;
  reconnectAttempts: number;
  lastConnectedAt: number | null;
  lastInboundAt: number | null;
  lastOutboundAt: number | null;
  mode?: string;
  /** `linked`: the account holds a login (QR-style platforms). */
  linked?: boolean;
  /**
   * What is particular to the platform, shown as is by `channels status` (WhatsApp: linked number, LID, connection
   * state, last disconnect). Values are plain JSON.
   */
  details?: Record<string, string | number | boolean | null | Record<string, string | number | boolean | null>>;
}

/** What an account can do. */
export interface ChannelCapabilities {
  chatTypes: ChatType[];
  /** Files that come with inbound messages are saved and passed on (`InboundMessage.media`). */
  media: boolean;
  threads: boolean;
  typing: boolean;
  /** The platform's limit per message; longer text is chunked. */
  maxTextLength: number;
}

/** A logger (pino-compatible subset). */
export interface ChannelLogger {
  debug(object: unknown, message?: string): void;
  info(object: unknown, message?: string): void;
  warn(object: unknown, message?: string): void;
  error(object: unknown, message?: string): void;
}

/**
 * A webhook on the gateway's port, in web terms: a `Request` in (its body unread, so a plugin can check a signature
 * over the raw bytes), a `Response` out.
 */
export interface ChannelHttpRoute {
  method: "POST" | "GET";
  /** Relative to the account's prefix: `webhook` is served at `/channels/<channel>/<account>/webhook`. */
  path: string;
  handle(request: Request): Promise<Response>;
}

/** What the gateway gives an account when it starts it. */
export interface ChannelContext<Config = Record<string, unknown>> {
  readonly channel: string;
  readonly accountId: string;
  readonly config: Config;
  readonly logger: ChannelLogger;
  /** Aborted when the account is stopped. */
  readonly signal: AbortSignal;
  /** A directory for this account's credentials and media (created, mode 0700). */
  readonly stateDir: string;
  /** Hand a message to the gateway. */
  receive(message: Omit<InboundMessage, "channel" | "accountId">): void;
  /** Update the status (merged into the current one). */
  setStatus(patch: Partial<ChannelStatus>): void;
  /** The account broke after it started: the gateway restarts it with backoff (or stops it, for a fatal error). */
  reportError(error: Error): void;
  /**
   * Mount a webhook on the gateway's HTTP port (no gateway token: the plugin checks the platform's secret). Returns the
   * local path. The route is removed when the account stops.
   */
  registerHttpRoute(route: ChannelHttpRoute): string;
  /**
   * Fleet mode only: true exactly once across every instance of the fleet for `key` (remembered 24 h), for a
   * platform that delivers one event to whichever of several connections it picks (see `ChannelPlugin.instances`).
   * Absent on a single gateway: deduplicate in memory there.
   */
  claimOnce?(key: string): Promise<boolean>;
}

/** One account of a channel. `start` and `stop` are idempotent (`ChannelAccountBase` does the bookkeeping). */
export interface ChannelAccount {
  /** Connect; resolves when receiving works. Throw a fatal `ChannelError` for what retrying cannot fix. */
  start(context: ChannelContext): Promise<void>;
  stop(): Promise<void>;
  sendText(message: OutboundMessage): Promise<SendResult>;
  /** Send a file (a path under the account's state dir or anywhere readable), with `text` as its caption. */
  sendMedia?(message: OutboundMessage & { media: MediaRef & { path: string } }): Promise<SendResult>;
  /** Show "typing…" in a chat while the agent works. */
  sendTyping?(peer: string, threadId?: string): Promise<void>;
  /** Check the platform connection now (for `channels.status {probe: true}`). */
  probe?(): Promise<{ ok: boolean; detail?: string }>;
  /** Send a file (a path under the account's state dir or anywhere readable), with `text` as its caption. */
  sendMedia?(message: OutboundMessage & { media: MediaRef & { path: string } }): Promise<SendResult>;
  /** Start a QR or pairing-code login (WhatsApp): resolves with what to show the user. */
  loginStart?(options: { force?: boolean; phoneNumber?: string; timeoutMs?: number }): Promise<ChannelLoginState>;
  /** Wait until the login completes, a fresh QR is due, or `timeoutMs` passes. */
  loginWait?(options: { timeoutMs: number }): Promise<ChannelLoginState>;
  /** Forget stored credentials; true when something was cleared. */
  logout?(): Promise<boolean>;
}

/** Where a login is: the QR to scan (as text and a PNG data URL) or a pairing code, and whether it is done. */
export interface ChannelLoginState {
  connected: boolean;
  message: string;
  qr?: string;
  qrDataUrl?: string;
  pairingCode?: string;
}

/** The version of this contract; a plugin says which one it implements. */
export const CHANNEL_SPECIFICATION_VERSION = "v1";

/** A channel plugin: what a package exports (default export, or `plugin`). */
export interface ChannelPlugin<Config = Record<string, unknown>> {
  /** The contract this plugin implements; the gateway refuses one it does not know. */
  readonly specificationVersion: typeof CHANNEL_SPECIFICATION_VERSION;
  readonly id: string;
  /** `setup`: one line a user reads when nothing is configured yet ("set channels.x.token (from …)"). */
  readonly meta: { label: string; docs?: string; setup?: string };
  readonly capabilities: ChannelCapabilities;
  /**
   * How many instances of a fleet may run one account at once. `one` (a socket the platform allows once, a polling
   * offset): the account runs under a lease on one instance. `many`: the platform spreads events over several
   * connections (Slack Socket Mode, an HTTP webhook behind a load balancer) and the plugin claims each event through
   * `ChannelContext.claimOnce`. @default "one"
   */
  readonly instances?: "one" | "many";
  /** The schema of one account's config (`channels.<id>` for the default account, `channels.<id>.accounts.<name>`). */
  readonly configSchema: TObject;
  createAccount(accountId: string, config: Config): ChannelAccount;
}

/** Identity helper with inference for plugin authors. */
export function defineChannelPlugin<Config>(plugin: ChannelPlugin<Config>): ChannelPlugin<Config> {
  return plugin;
}
