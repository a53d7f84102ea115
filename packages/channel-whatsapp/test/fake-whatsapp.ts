// A fake behind the plugin's socket seam, for what no local server can do: QR and pairing-code logins, group sends,
// chosen disconnect codes. Every socket the plugin makes is recorded; the test scripts what each does.
import { EventEmitter } from "node:events";
import type { WAMessage } from "@whiskeysockets/baileys";
import type { WhatsAppSocket, WhatsAppSocketFactory, WhatsAppSocketOptions } from "../src/socket.js";

/** What a new socket does by itself right after it is made. */
export type Behaviour =
  | { kind: "open" }
  | { kind: "close"; code: number | undefined }
  | { kind: "qr"; qrs: string[] }
  | { kind: "silent" };

/** Baileys' close error: a Boom with `output.statusCode` (none for a dropped socket). */
export const closeError = (code: number | undefined) =>
  Object.assign(
    new Error(code === undefined ? "socket hang up" : `closed ${code}`),
    code === undefined ? {} : { output: { statusCode: code } },
  );

export const SELF = { id: "15550000000:7@s.whatsapp.net", lid: "424242424242:7@lid" };

export class FakeSocket implements WhatsAppSocket {
  readonly events = new EventEmitter();
  readonly ev = {
    on: (event: string, listener: (update: unknown) => void) => void this.events.on(event, listener),
    off: (event: string, listener: (update: unknown) => void) => void this.events.off(event, listener),
  } as unknown as WhatsAppSocket["ev"];
  user: WhatsAppSocket["user"];
  ended = false;
  isOpen = false;
  pairingRequests: string[] = [];
  presence: Array<{ type: string; jid?: string | undefined }> = [];
  receipts: string[] = [];
  loggedOut = false;
  /** The creds' `me` when the socket was made (the creds object itself is live). */
  readonly meAtCreation: unknown;

  constructor(
    readonly options: WhatsAppSocketOptions,
    private readonly fake: FakeWhatsApp,
  ) {
    this.meAtCreation = structuredClone(options.auth.creds.me);
  }

  emit(event: string, value: unknown): void {
    this.events.emit(event, value);
  }

  open(user = SELF): void {
    this.user = user;
    this.isOpen = true;
    this.emit("creds.update", { me: { id: user.id, lid: user.lid } });
    this.emit("connection.update", { connection: "open" });
  }

  close(code: number | undefined): void {
    if (this.ended) return;
    this.ended = true;
    this.isOpen = false;
    this.emit("connection.update", {
      connection: "close",
      lastDisconnect: { error: closeError(code), date: new Date() },
    });
  }

  deliver(messages: WAMessage[], type: "notify" | "append" = "notify"): void {
    this.emit("messages.upsert", { messages, type });
  }

  async sendMessage(jid: string, content: Record<string, unknown>, options?: { quoted?: WAMessage }) {
    if (!this.isOpen) throw closeError(428);
    const id = `FAKE${String(++this.fake.counter).padStart(6, "0")}`;
    this.fake.sent.push({ jid, content, quoted: options?.quoted, id, at: Date.now() });
    return {
      key: { remoteJid: jid, id, fromMe: true },
      message: { conversation: String(content.text ?? "") },
    } as WAMessage;
  }

  async sendPresenceUpdate(type: "composing" | "paused" | "available" | "unavailable", jid?: string) {
    this.presence.push({ type, jid });
  }

  async readMessages(keys: Array<{ id?: string | null }>) {
    for (const key of keys) this.receipts.push(key.id ?? "");
  }

  async requestPairingCode(phoneNumber: string) {
    this.pairingRequests.push(phoneNumber);
    if (!this.fake.qrShown.has(this)) throw new Error("Connection Closed (the socket is not connected yet)");
    return "ABCD2345";
  }

  async logout() {
    this.loggedOut = true;
  }

  end(): void {
    this.close(428);
  }

  async lidForPhone(jid: string) {
    return this.fake.lids.get(jid);
  }
}

/** The fake: its factory, the sockets it made, what they sent. */
export class FakeWhatsApp {
  readonly sockets: FakeSocket[] = [];
  readonly sent: Array<{
    jid: string;
    content: Record<string, unknown>;
    quoted: WAMessage | undefined;
    id: string;
    at: number;
  }> = [];
  readonly lids = new Map<string, string>();
  readonly qrShown = new Set<FakeSocket>();
  counter = 0;
  /** What the next sockets do (the first entry is used up by each new socket; the last one stays). */
  script: Behaviour[] = [{ kind: "open" }];

  readonly factory: WhatsAppSocketFactory = (options) => {
    const socket = new FakeSocket(options, this);
    this.sockets.push(socket);
    const behaviour = this.script.length > 1 ? this.script.shift()! : this.script[0]!;
    setImmediate(() => {
      if (socket.ended) return;
      socket.emit("connection.update", { connection: "connecting" });
      if (behaviour.kind === "open") socket.open();
      else if (behaviour.kind === "close") socket.close(behaviour.code);
      else if (behaviour.kind === "qr") {
        for (const [index, qr] of behaviour.qrs.entries())
          setTimeout(() => {
            if (socket.ended) return;
            this.qrShown.add(socket);
            socket.emit("connection.update", { qr });
          }, index * 30);
      }
    });
    return socket;
  };

  /** The newest socket. */
  get current(): FakeSocket {
    return this.sockets.at(-1)!;
  }

  /** The newest socket once one is open. */
  async open(timeoutMs = 10_000): Promise<FakeSocket> {
    const deadline = Date.now() + timeoutMs;
    while (!this.sockets.at(-1)?.isOpen) {
      if (Date.now() > deadline) throw new Error("no open fake socket");
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
    return this.current;
  }
}

let sequence = 0;

/** A WAMessage as Baileys emits it for an incoming text. */
export function textMessage(options: {
  chat: string;
  text: string;
  participant?: string;
  alternate?: string;
  name?: string;
  fromMe?: boolean;
  contextInfo?: Record<string, unknown>;
  id?: string;
}): WAMessage {
  const group = options.chat.endsWith("@g.us");
  return {
    key: {
      remoteJid: options.chat,
      id: options.id ?? `IN${String(++sequence).padStart(6, "0")}`,
      fromMe: options.fromMe ?? false,
      ...(group ? { participant: options.participant } : {}),
      ...(options.alternate
        ? group
          ? { participantAlt: options.alternate }
          : { remoteJidAlt: options.alternate }
        : {}),
    },
    message: options.contextInfo
      ? { extendedTextMessage: { text: options.text, contextInfo: options.contextInfo } }
      : { conversation: options.text },
    messageTimestamp: Math.floor(Date.now() / 1000),
    pushName: options.name ?? "Ada",
  } as WAMessage;
}
