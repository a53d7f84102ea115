// The seam between the plugin and Baileys: the plugin uses only this narrow socket interface, made by a factory.
// Production passes `createBaileysSocket` (Baileys' makeWASocket); tests pass fakes for what no local server can do
// (QR and pairing-code logins, group sends, chosen disconnect codes).
import type { ChannelLogger } from "@gateway/plugin-sdk";
import {
  type AnyMessageContent,
  type AuthenticationState,
  type BaileysEventMap,
  DEF_TAG_PREFIX,
  type MiscMessageGenerationOptions,
  makeWASocket,
  type proto,
  type WAMessage,
  type WAMessageKey,
  type WASocket,
} from "@whiskeysockets/baileys";

/** Baileys' logger shape (pino's). */
export interface BaileysLogger {
  level: string;
  child(bindings: Record<string, unknown>): BaileysLogger;
  trace(object: unknown, message?: string): void;
  debug(object: unknown, message?: string): void;
  info(object: unknown, message?: string): void;
  warn(object: unknown, message?: string): void;
  error(object: unknown, message?: string): void;
}

/**
 * A silent logger for Baileys, bridged to ours: its warnings and errors reach our log at debug level (Baileys logs
 * many benign "errors"), everything else is dropped.
 */
export function bridgeLogger(logger: ChannelLogger): BaileysLogger {
  const forward = (object: unknown, message?: string) =>
    logger.debug(object, `baileys: ${message ?? (typeof object === "string" ? object : "")}`);
  const bridged: BaileysLogger = {
    level: "warn",
    child: () => bridged,
    trace() {},
    debug() {},
    info() {},
    warn: forward,
    error: forward,
  };
  return bridged;
}

/** The events the plugin listens to. */
export type WhatsAppEvents = Pick<
  BaileysEventMap,
  | "connection.update"
  | "creds.update"
  | "messages.upsert"
  | "lid-mapping.update"
  | "contacts.upsert"
  | "contacts.update"
>;

/** The part of a Baileys socket the plugin uses. */
export interface WhatsAppSocket {
  ev: {
    on<Event extends keyof WhatsAppEvents>(event: Event, listener: (update: WhatsAppEvents[Event]) => void): void;
    off<Event extends keyof WhatsAppEvents>(event: Event, listener: (update: WhatsAppEvents[Event]) => void): void;
  };
  /** The linked account once connected: phone JID (with device), LID. */
  readonly user: { id: string; lid?: string | undefined; name?: string | undefined } | undefined;
  sendMessage(
    jid: string,
    content: AnyMessageContent,
    options?: MiscMessageGenerationOptions,
  ): Promise<WAMessage | undefined>;
  sendPresenceUpdate(type: "composing" | "paused" | "available" | "unavailable", jid?: string): Promise<void>;
  readMessages(keys: WAMessageKey[]): Promise<void>;
  /** Ask WhatsApp for an 8-character code to type on the phone (only once the socket is connecting). */
  requestPairingCode(phoneNumber: string): Promise<string>;
  /** Tell WhatsApp to unlink this device. */
  logout(): Promise<void>;
  end(error: Error | undefined): void;
  /** The LID of a phone-number JID: Baileys' stored mapping, else WhatsApp's usync. */
  lidForPhone(jid: string): Promise<string | undefined>;
}

/** What the plugin hands the factory. */
export interface WhatsAppSocketOptions {
  auth: AuthenticationState;
  /** @default wss://web.whatsapp.com/ws/chat */
  waWebSocketUrl?: string;
  version: [number, number, number];
  browser: [string, string, string];
  connectTimeoutMs: number;
  logger: BaileysLogger;
  /** A message we sent, for WhatsApp's retry requests. */
  getMessage(key: WAMessageKey): Promise<proto.IMessage | undefined>;
}

/** Baileys' WebSocket client: its `close()` waits for the peer's close frame. */
interface ClosableClient {
  socket: { terminate(): void } | null;
  close(): Promise<void>;
}

/**
 * Bound the wait of Baileys' close: it awaits the server's close frame, which a silent or broken server never sends
 * (the `ws` library gives up after 30 s), and only then reports the close. After a second the socket is terminated,
 * so the close (with Baileys' own reason) is reported at once and the reconnect policy is not held up.
 */
function boundClose(client: ClosableClient, graceMs = 1_000): void {
  const close = client.close.bind(client);
  client.close = () => {
    const raw = client.socket;
    const timer = setTimeout(() => raw?.terminate(), graceMs);
    return close().finally(() => clearTimeout(timer));
  };
}

/** Baileys' WebSocket client as an event emitter (queries wait for `TAG:<id>` events on it). */
interface QueryEmitter {
  eventNames(): Array<string | symbol>;
  emit(event: string, value: unknown): boolean;
}

/**
 * Answer the queries still waiting when the connection closed: Baileys drops its close listener before closing, so
 * a query in flight (a privacy-token request after a first message, say) would otherwise wait out its 60 s timeout,
 * holding the old socket (and a short-lived process) that long. Each gets an error answer and fails at once.
 */
function settleQueries(client: QueryEmitter): void {
  for (const event of client.eventNames()) {
    if (typeof event !== "string" || !event.startsWith(DEF_TAG_PREFIX)) continue;
    const id = event.slice(DEF_TAG_PREFIX.length);
    client.emit(event, {
      tag: "iq",
      attrs: { id, type: "error" },
      content: [{ tag: "error", attrs: { code: "503", text: "connection closed" } }],
    });
  }
}

/** Makes a socket (a fresh one for every connection attempt). */
export type WhatsAppSocketFactory = (options: WhatsAppSocketOptions) => WhatsAppSocket;

/**
 * Baileys' socket with our settings: no network call at start (the version is given, never fetched), no "online"
 * presence at connect (the phone keeps its notifications), no full history sync.
 */
export const createBaileysSocket: WhatsAppSocketFactory = (options) => {
  const socket: WASocket = makeWASocket({
    auth: options.auth,
    ...(options.waWebSocketUrl ? { waWebSocketUrl: options.waWebSocketUrl } : {}),
    version: options.version,
    browser: options.browser,
    connectTimeoutMs: options.connectTimeoutMs,
    logger: options.logger,
    markOnlineOnConnect: false,
    syncFullHistory: false,
    getMessage: options.getMessage,
  });
  boundClose(socket.ws as unknown as ClosableClient);
  socket.ev.on("connection.update", (update) => {
    if (update.connection === "close") settleQueries(socket.ws as unknown as QueryEmitter);
  });
  return {
    ev: socket.ev as unknown as WhatsAppSocket["ev"],
    get user() {
      return socket.user;
    },
    sendMessage: (jid, content, messageOptions) => socket.sendMessage(jid, content, messageOptions),
    sendPresenceUpdate: (type, jid) => socket.sendPresenceUpdate(type, jid),
    readMessages: (keys) => socket.readMessages(keys),
    requestPairingCode: (phoneNumber) => socket.requestPairingCode(phoneNumber),
    logout: () => socket.logout(),
    end: (error) => socket.end(error),
    lidForPhone: async (jid) => (await socket.signalRepository.lidMapping.getLIDForPN(jid)) ?? undefined,
  };
};
