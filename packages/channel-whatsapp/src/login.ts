// Linking a phone: a QR to scan, or an 8-character code to type on the phone. The new credentials are written into a
// staged auth state of their own, which becomes the live one only when WhatsApp confirms the pairing (an interrupted
// login leaves nothing behind, and the credentials linked before stay in use until then). Right after a scan WhatsApp
// closes the connection with 515 "restart required": a new socket is made at once and the login completes.
import { type ChannelLogger, type ChannelLoginState, ChannelPluginError } from "@gateway/plugin-sdk";
import { initAuthCreds, makeCacheableSignalKeyStore } from "@whiskeysockets/baileys";
import { AuthStore, type AuthStoreOptions } from "./auth-store.js";
import { describeDisconnect, disconnectCode } from "./disconnect.js";
import { e164Of, normalizeJid } from "./identity.js";
import { qrDataUrl } from "./qr.js";
import { quietLibsignal } from "./quiet-libsignal.js";
import type { WhatsAppSocket, WhatsAppSocketFactory, WhatsAppSocketOptions } from "./socket.js";

/** What a login needs. */
export interface LoginOptions {
  /** The account's credentials directory. */
  root: string;
  factory: WhatsAppSocketFactory;
  socket: Omit<WhatsAppSocketOptions, "auth" | "getMessage">;
  store: AuthStoreOptions;
  logger: ChannelLogger;
  /** How many 515 restarts in a row are accepted before the login counts as failed. @default 5 */
  maxRestarts?: number;
}

type Phase = "starting" | "qr" | "code" | "paired" | "done" | "failed";

/** A login in progress (one per account). */
export class WhatsAppLogin {
  readonly #options: LoginOptions;
  #state: ChannelLoginState = { connected: false, message: "connecting to WhatsApp…" };
  #phase: Phase = "starting";
  #changes = 0;
  #listeners = new Set<() => void>();
  #store: AuthStore | undefined;
  #socket: WhatsAppSocket | undefined;
  #phoneNumber: string | undefined;
  #codeRequested = false;
  #restarts = 0;
  #returnedQr: string | undefined;
  #committed: Promise<void> | undefined;
  #releaseConsole: (() => void) | undefined;

  constructor(options: LoginOptions) {
    this.#options = options;
  }

  /** Whether the login is over (linked, or failed). */
  get finished(): boolean {
    return this.#phase === "done" || this.#phase === "failed";
  }

  /**
   * Begin: resolves with the first QR (or the pairing code when `phoneNumber` is given), or when the login ended
   * first. Already linked and no `force`: says so and changes nothing.
   */
  async start(options: { force?: boolean; phoneNumber?: string; timeoutMs?: number }): Promise<ChannelLoginState> {
    if (!options.force && (await AuthStore.exists(this.#options.root))) {
      this.#finish("done", { connected: true, message: "already linked to a phone (log in again with force)" });
      return this.#state;
    }
    if (options.phoneNumber !== undefined) {
      const digits = options.phoneNumber.replace(/[\s().-]/g, "").replace(/^\+/, "");
      if (!/^\d{6,15}$/.test(digits))
        throw new ChannelPluginError(
          "loginStart",
          `"${options.phoneNumber}" is not a phone number: give it in international format, e.g. +15551234567`,
          { fatal: true },
        );
      this.#phoneNumber = digits;
    }
    this.#store = await AuthStore.createStaged(this.#options.root, initAuthCreds() as never, this.#options.store);
    this.#releaseConsole = quietLibsignal((line) => this.#options.logger.debug(line));
    this.#connect();
    return this.#next(options.timeoutMs ?? 30_000, true);
  }

  /** Resolve when the login completes or fails, a fresh QR is due, or `timeoutMs` passes (the state as it is). */
  wait(options: { timeoutMs: number }): Promise<ChannelLoginState> {
    return this.#next(options.timeoutMs, false);
  }

  /** Stop the login; credentials of an unfinished one are removed. Idempotent. */
  async cancel(): Promise<void> {
    if (this.finished) return;
    this.#finish("failed", { connected: false, message: "the login was cancelled" });
    await this.#release(true);
  }

  #next(timeoutMs: number, first: boolean): Promise<ChannelLoginState> {
    const ready = () =>
      this.finished ||
      (this.#phase === "code" && first) ||
      (this.#state.qr !== undefined && this.#state.qr !== this.#returnedQr);
    return new Promise((resolve) => {
      const settle = () => {
        clearTimeout(timer);
        this.#listeners.delete(check);
        if (this.#state.qr) this.#returnedQr = this.#state.qr;
        resolve({ ...this.#state });
      };
      const check = () => {
        if (ready()) settle();
      };
      const timer = setTimeout(settle, timeoutMs);
      this.#listeners.add(check);
      check();
    });
  }

  #update(phase: Phase, state: ChannelLoginState): void {
    this.#phase = phase;
    this.#state = state;
    this.#changes++;
    for (const listener of [...this.#listeners]) listener();
  }

  #finish(phase: "done" | "failed", state: ChannelLoginState): void {
    if (this.finished) return;
    this.#update(phase, state);
  }

  #connect(): void {
    const store = this.#store!;
    const socket = this.#options.factory({
      ...this.#options.socket,
      auth: {
        creds: store.creds as never,
        keys: makeCacheableSignalKeyStore(store.keys as never, this.#options.socket.logger),
      },
      getMessage: async () => undefined,
    });
    this.#socket = socket;
    socket.ev.on("creds.update", (update) => {
      Object.assign(store.creds, update);
      store
        .saveCreds()
        .catch((error: Error) => this.#options.logger.warn({ err: error }, "whatsapp: saving login creds"));
    });
    socket.ev.on("connection.update", (update) => {
      if (socket !== this.#socket || this.finished) return;
      if (update.qr) this.#onQr(socket, update.qr);
      if (update.isNewLogin) void this.#commit();
      if (update.connection === "open") void this.#opened(socket);
      if (update.connection === "close") void this.#closed(update.lastDisconnect?.error);
    });
  }

  #onQr(socket: WhatsAppSocket, qr: string): void {
    if (this.#phoneNumber === undefined) {
      this.#update("qr", {
        connected: false,
        message: "Scan this QR with WhatsApp on your phone: Settings → Linked devices → Link a device",
        qr,
        qrDataUrl: qrDataUrl(qr),
      });
      return;
    }
    // The code may be asked for only once the socket is connecting and WhatsApp is ready for a pairing: its first QR.
    if (this.#codeRequested) return;
    this.#codeRequested = true;
    socket.requestPairingCode(this.#phoneNumber).then(
      (code) => {
        const pairingCode = code.length === 8 ? `${code.slice(0, 4)}-${code.slice(4)}` : code;
        this.#update("code", {
          connected: false,
          message: `On your phone: WhatsApp → Settings → Linked devices → Link a device → Link with phone number instead, and enter ${pairingCode}`,
          pairingCode,
        });
      },
      async (error: Error) => {
        await this.#release(true);
        this.#finish("failed", { connected: false, message: `WhatsApp gave no pairing code: ${error.message}` });
      },
    );
  }

  /** WhatsApp confirmed the pairing: the staged credentials become the account's (atomically). */
  #commit(): Promise<void> {
    if (!this.#committed) {
      this.#update("paired", { connected: false, message: "linked: finishing the connection…" });
      this.#committed = this.#store?.commit() ?? Promise.resolve();
    }
    return this.#committed;
  }

  async #opened(socket: WhatsAppSocket): Promise<void> {
    await this.#commit();
    const id = socket.user?.id ?? (this.#store?.creds.me as { id?: string } | undefined)?.id;
    this.#finish("done", {
      connected: true,
      message: id ? `linked to ${e164Of(normalizeJid(id))}` : "linked",
    });
    await this.#release(false);
  }

  async #closed(error: unknown): Promise<void> {
    const code = disconnectCode(error);
    if (code === 515 && this.#restarts < (this.#options.maxRestarts ?? 5)) {
      // Expected right after a scan: WhatsApp wants a new connection with the new credentials. Silently.
      this.#restarts++;
      this.#socket = undefined;
      this.#connect();
      return;
    }
    if (this.#committed) {
      await this.#committed.catch(() => undefined);
      // The pairing is stored; the account connects with it when it starts.
      this.#finish("done", { connected: true, message: "linked (the account connects when it starts)" });
      await this.#release(false);
      return;
    }
    const message =
      code === 405
        ? "the WhatsApp Web version is stale: set channels.whatsapp.waVersion or update"
        : code === 408
          ? "the login timed out before the QR was scanned (or the code entered): start it again"
          : code === 401
            ? "WhatsApp refused the login (401): start it again"
            : `the login connection closed (${describeDisconnect(code, error)}): start it again`;
    // Clean up first: whoever waits sees the failure once nothing of the login is left.
    await this.#release(true);
    this.#finish("failed", { connected: false, message });
  }

  /** End the socket; an unfinished login's staged credentials are deleted, a finished one's closed. */
  async #release(discard: boolean): Promise<void> {
    const socket = this.#socket;
    const store = this.#store;
    this.#socket = undefined;
    this.#store = undefined;
    this.#releaseConsole?.();
    this.#releaseConsole = undefined;
    try {
      socket?.end(undefined);
    } catch {
      // already closed
    }
    if (!store) return;
    // Once committed, the staged state is the account's: closed, never deleted.
    if (discard && !this.#committed) await store.discard();
    else {
      await this.#committed?.catch(() => undefined);
      await store.close();
    }
  }

  /** For tests: how many times the state changed. */
  get changes(): number {
    return this.#changes;
  }
}
