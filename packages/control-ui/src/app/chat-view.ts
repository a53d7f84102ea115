// The chat of one session, shared by the Control UI's Chat page and the WebChat page: the transcript, replies
// streamed as they come, abort, older messages on demand, a composer that keeps its draft, and an outbox that
// marks a message "delivery unconfirmed" (Retry / Discard) when the gateway went away before answering.
import { GatewayClientError, randomId } from "@gateway/client";
import type { ChatEvent } from "@gateway/protocol";
import type { Connection } from "./connection.js";
import { errorText, formatTime, h, replace } from "./dom.js";
import { renderMarkdown } from "./markdown.js";
import { messageText, type ShownMessage, shownMessage } from "./messages.js";
import { drafts, type OutboxItem, outbox } from "./outbox.js";

const PAGE = 100;
/** A message counts as already in the transcript when the gateway recorded it at most this long before we sent. */
const CLOCK_SKEW_MS = 60_000;

/** Options of a chat view. */
export interface ChatViewOptions {
  connection: Connection;
  sessionKey: string;
  /** Who the reply comes from, for the screen reader label. @default "Assistant" */
  assistantName?: string;
}

/** One session's chat, mounted into `element`. */
export class ChatView {
  readonly element: HTMLElement;
  #sessionKey: string;
  readonly #connection: Connection;
  readonly #assistantName: string;
  readonly #log: HTMLElement;
  readonly #older: HTMLButtonElement;
  readonly #composer: HTMLTextAreaElement;
  readonly #send: HTMLButtonElement;
  readonly #abort: HTMLButtonElement;
  readonly #notice: HTMLElement;
  #messages: ShownMessage[] = [];
  #limit = PAGE;
  #streams = new Map<string, { text: string; element: HTMLElement }>();
  #running = new Set<string>();
  #stop: () => void;

  constructor(options: ChatViewOptions) {
    this.#connection = options.connection;
    this.#sessionKey = options.sessionKey;
    this.#assistantName = options.assistantName ?? "Assistant";
    this.#older = h(
      "button",
      { class: "link", type: "button", hidden: true, onclick: () => this.#showOlder() },
      "Show older messages",
    );
    this.#log = h("div", {
      class: "chat-log",
      role: "log",
      "aria-live": "polite",
      "aria-label": "Conversation",
      tabindex: 0,
    });
    this.#notice = h("p", { class: "chat-notice", role: "status" });
    this.#composer = h("textarea", {
      id: `composer-${Math.random().toString(36).slice(2)}`,
      class: "composer",
      rows: 3,
      placeholder: "Message — Enter sends, Shift+Enter for a new line",
      "aria-label": "Message",
      oninput: () => this.#onInput(),
      onkeydown: (event: KeyboardEvent) => {
        if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
          event.preventDefault();
          this.#submit();
        }
      },
    });
    this.#send = h("button", { class: "primary", type: "submit", disabled: true }, "Send");
    this.#abort = h("button", { type: "button", hidden: true, onclick: () => this.#abortRun() }, "Stop");
    const form = h(
      "form",
      {
        class: "composer-row",
        onsubmit: (event: Event) => {
          event.preventDefault();
          this.#submit();
        },
      },
      this.#composer,
      h("div", { class: "composer-actions" }, this.#send, this.#abort),
    );
    this.element = h("section", { class: "chat", "aria-label": "Chat" }, this.#older, this.#log, this.#notice, form);
    this.#stop = this.#connection.client.on("chat", (event) => this.#onChat(event));
    this.#loadDraft();
    void this.reload();
  }

  /** The session shown. */
  get sessionKey(): string {
    return this.#sessionKey;
  }

  /** Show another session (its own draft, transcript and outbox). */
  switchTo(sessionKey: string): void {
    if (sessionKey === this.#sessionKey) return;
    this.#sessionKey = sessionKey;
    this.#limit = PAGE;
    this.#streams.clear();
    this.#running.clear();
    this.#loadDraft();
    this.#messages = [];
    this.#render();
    void this.reload();
  }

  /** Refetch the transcript (after a reconnect or missed events) and settle the outbox against it. */
  async reload(): Promise<void> {
    try {
      const history = await this.#connection.client.request("chat.history", {
        sessionKey: this.#sessionKey,
        limit: this.#limit,
      });
      if (history.sessionKey !== this.#sessionKey) return;
      this.#messages = history.messages.map(shownMessage).filter((message) => message !== undefined);
      this.#older.hidden = history.messages.length < this.#limit;
      this.#notice.textContent = "";
      for (const item of outbox.of(this.#sessionKey))
        if (item.state === "unconfirmed" && this.#recorded(item)) outbox.remove(item.idempotencyKey);
      this.#render();
    } catch (error) {
      this.#notice.textContent = `Could not load the conversation: ${errorText(error)}`;
    }
  }

  focus(): void {
    this.#composer.focus();
  }

  dispose(): void {
    this.#stop();
  }

  #loadDraft(): void {
    this.#composer.value = drafts.get(this.#sessionKey);
    this.#send.disabled = this.#composer.value.trim() === "";
  }

  #onInput(): void {
    drafts.set(this.#sessionKey, this.#composer.value);
    this.#send.disabled = this.#composer.value.trim() === "";
  }

  #showOlder(): void {
    this.#limit += PAGE;
    void this.reload();
  }

  /** Whether the transcript already holds this outbox message (it reached the gateway before the link dropped). */
  #recorded(item: OutboxItem): boolean {
    return this.#messages.some(
      (message) =>
        message.role === "user" &&
        message.text === item.text &&
        (message.ts === undefined || message.ts >= item.createdAt - CLOCK_SKEW_MS),
    );
  }

  #submit(): void {
    const text = this.#composer.value.trim();
    // Never an empty send: nothing happens, the button stays disabled.
    if (!text) return;
    const item: OutboxItem = {
      idempotencyKey: randomId(),
      sessionKey: this.#sessionKey,
      text,
      createdAt: Date.now(),
      state: "sending",
    };
    outbox.put(item);
    this.#composer.value = "";
    this.#onInput();
    this.#render();
    void this.#deliver(item);
  }

  async #deliver(item: OutboxItem): Promise<void> {
    try {
      // No automatic retry: if the gateway goes away mid-send the user decides (the same key makes Retry safe).
      const result = await this.#connection.client.request(
        "chat.send",
        { sessionKey: item.sessionKey, message: item.text, idempotencyKey: item.idempotencyKey },
        { retries: 0 },
      );
      outbox.remove(item.idempotencyKey);
      this.#running.add(result.runId);
      if (item.sessionKey === this.#sessionKey) {
        this.#messages.push({ role: "user", text: item.text, ts: Date.now(), tools: [] });
        this.#render();
      }
    } catch (error) {
      const unconfirmed = GatewayClientError.isInstance(error) && (error.retryable || error.code === "CLOSED");
      if (unconfirmed) {
        outbox.put({ ...item, state: "unconfirmed" });
      } else {
        // Refused (a bad message, no permission): nothing was delivered; the text goes back into the composer.
        outbox.remove(item.idempotencyKey);
        if (!this.#composer.value) {
          this.#composer.value = item.text;
          this.#onInput();
        }
        this.#notice.textContent = `Not sent: ${errorText(error)}`;
      }
      this.#render();
    }
  }

  async #retry(item: OutboxItem): Promise<void> {
    // It may have arrived before the gateway went away: the transcript decides, never a second copy.
    await this.reload();
    if (!outbox.of(item.sessionKey).some((other) => other.idempotencyKey === item.idempotencyKey)) return;
    const sending = { ...item, state: "sending" as const };
    outbox.put(sending);
    this.#render();
    await this.#deliver(sending);
  }

  #discard(item: OutboxItem): void {
    outbox.remove(item.idempotencyKey);
    this.#render();
  }

  async #abortRun(): Promise<void> {
    try {
      await this.#connection.client.request("chat.abort", { sessionKey: this.#sessionKey });
    } catch (error) {
      this.#notice.textContent = `Could not stop the reply: ${errorText(error)}`;
    }
  }

  #onChat(event: ChatEvent): void {
    if (event.sessionKey !== this.#sessionKey) return;
    const stream = this.#streams.get(event.runId) ?? { text: "", element: h("div") };
    switch (event.state) {
      case "delta": {
        this.#running.add(event.runId);
        stream.text += event.deltaText;
        const known = this.#streams.has(event.runId);
        this.#streams.set(event.runId, stream);
        // More text of a reply on screen: only its bubble changes (buttons elsewhere stay put and keep focus).
        if (known && stream.element.isConnected) {
          this.#fillText(stream.element, "assistant", stream.text);
          this.#stickToBottom();
          return;
        }
        break;
      }
      case "final": {
        this.#streams.delete(event.runId);
        this.#running.delete(event.runId);
        const text = messageText(event.message) || stream.text;
        if (text) this.#messages.push({ role: "assistant", text, ts: Date.now(), tools: [] });
        break;
      }
      case "aborted":
        this.#streams.delete(event.runId);
        this.#running.delete(event.runId);
        this.#messages.push({
          role: "assistant",
          text: `${stream.text}${stream.text ? " " : ""}(stopped)`,
          ts: Date.now(),
          tools: [],
        });
        break;
      case "error":
        this.#streams.delete(event.runId);
        this.#running.delete(event.runId);
        this.#messages.push({ role: "error", text: event.errorMessage ?? "the run failed", ts: Date.now(), tools: [] });
        break;
    }
    this.#render();
  }

  #bubble(message: ShownMessage, extra: { streaming?: boolean } = {}): HTMLElement {
    const who =
      message.role === "user"
        ? "You"
        : message.role === "error"
          ? "Error"
          : message.role === "system"
            ? "System"
            : this.#assistantName;
    const body = h("div", { class: "bubble-text" });
    this.#fillText(body, message.role, message.text);
    return h(
      "article",
      { class: `bubble ${message.role}${extra.streaming ? " streaming" : ""}`, "aria-label": `${who}` },
      h("header", {}, h("span", { class: "who" }, who), message.ts ? h("time", {}, formatTime(message.ts)) : null),
      message.tools.map((tool) =>
        h(
          "div",
          { class: `tool-card${tool.isError ? " failed" : ""}` },
          `Tool: ${tool.name}${tool.isError ? " (failed)" : ""}`,
        ),
      ),
      body,
    );
  }

  #fillText(body: HTMLElement, role: string, text: string): void {
    if (role === "user") body.textContent = text;
    else body.replaceChildren(renderMarkdown(text));
  }

  #stickToBottom(): void {
    if (this.#log.scrollHeight - this.#log.scrollTop - this.#log.clientHeight < 120)
      this.#log.scrollTop = this.#log.scrollHeight;
  }

  #render(): void {
    const nearBottom = this.#log.scrollHeight - this.#log.scrollTop - this.#log.clientHeight < 80;
    const pending = outbox.of(this.#sessionKey).map((item) => {
      const bubble = this.#bubble({ role: "user", text: item.text, ts: item.createdAt, tools: [] });
      bubble.classList.add("pending");
      bubble.appendChild(
        item.state === "sending"
          ? h("p", { class: "delivery" }, "Sending…")
          : h(
              "p",
              { class: "delivery unconfirmed", role: "alert" },
              "Delivery unconfirmed: the gateway went away before it answered. ",
              h("button", { type: "button", onclick: () => void this.#retry(item) }, "Retry"),
              " ",
              h("button", { type: "button", class: "link", onclick: () => this.#discard(item) }, "Discard"),
            ),
      );
      return bubble;
    });
    const streaming = [...this.#streams.values()].map((stream) => {
      const bubble = this.#bubble(
        { role: "assistant", text: stream.text, ts: undefined, tools: [] },
        { streaming: true },
      );
      stream.element = bubble.querySelector<HTMLElement>(".bubble-text") ?? bubble;
      return bubble;
    });
    replace(
      this.#log,
      this.#messages.length === 0 && pending.length === 0 && streaming.length === 0
        ? h("p", { class: "empty" }, "No messages yet. Say hello.")
        : null,
      this.#messages.map((message) => this.#bubble(message)),
      pending,
      streaming,
    );
    this.#abort.hidden = this.#running.size === 0;
    if (nearBottom) this.#log.scrollTop = this.#log.scrollHeight;
  }
}
