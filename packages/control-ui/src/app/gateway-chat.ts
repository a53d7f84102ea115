// <gateway-chat>: WebChat as an element another site can embed. The script comes from the gateway
// (`<script type="module" src="http://127.0.0.1:18789/assets/gateway-chat.js">`) and connects back to where it came
// from — never to an address the embedding page supplies; the gateway lets the page in only if its origin is in
// gateway.controlUi.allowedOrigins. The visitor signs in inside the element (kept in that site's localStorage), and
// the element asks for read and write scopes only. Its styles live in its shadow root, apart from the page's.
import { ChatView } from "./chat-view.js";
import { Connection } from "./connection.js";
import { type Credentials, loadCredentials } from "./credentials.js";
import { h, replace } from "./dom.js";
import { refusalAdvice, signInForm, statusPill } from "./shell.js";
import styles from "./styles.css";

/** The gateway this script was served by: its WebSocket endpoint. */
function ownGateway(): string {
  const script = new URL(import.meta.url);
  return `${script.protocol === "https:" ? "wss:" : "ws:"}//${script.host}/`;
}

/** `<gateway-chat session="…">`: one conversation with the agent (the main session unless `session` says). */
export class GatewayChatElement extends HTMLElement {
  #connection: Connection | undefined;
  #chat: ChatView | undefined;

  connectedCallback(): void {
    const root = this.shadowRoot ?? this.attachShadow({ mode: "open" });
    const sheet = new CSSStyleSheet();
    // The app's variables and rules, scoped to the element.
    sheet.replaceSync(
      `${styles.replaceAll(":root", ":host")}\n:host{display:flex;flex-direction:column;height:32rem;border:1px solid var(--border);border-radius:8px;overflow:hidden;background:var(--bg);color:var(--text);font-family:system-ui,sans-serif}\n.webchat.embedded{flex:1;min-height:0;height:auto;padding:0.5rem}`,
    );
    root.adoptedStyleSheets = [sheet];
    const pill = statusPill();
    const main = h("div", { class: "webchat embedded" });
    root.replaceChildren(h("div", { class: "topbar" }, h("span", { class: "brand" }, "Chat"), pill.element), main);
    let credentials: Credentials | undefined = loadCredentials();
    const connect = () => {
      this.#dispose();
      replace(main, h("p", { class: "muted" }, "Connecting…"));
      const connection = new Connection({
        url: ownGateway(),
        credentials,
        client: { id: "webchat-ui", mode: "webchat", displayName: "WebChat (embedded)" },
        scopes: ["operator.read", "operator.write"],
        onStatus: (status) => {
          pill.update(status);
          if (status.state === "open" && !this.#chat) {
            const sessionKey =
              this.getAttribute("session") ??
              status.hello.snapshot.sessionDefaults?.mainSessionKey ??
              "agent:main:main";
            this.#chat = new ChatView({ connection, sessionKey });
            replace(main, this.#chat.element);
          } else if (status.state === "refused") {
            replace(
              main,
              signInForm(refusalAdvice(status.code, status.message), (next) => {
                credentials = next;
                connect();
              }),
            );
          }
        },
        onResync: () => void this.#chat?.reload(),
      });
      this.#connection = connection;
    };
    connect();
  }

  disconnectedCallback(): void {
    this.#dispose();
  }

  #dispose(): void {
    this.#chat?.dispose();
    this.#chat = undefined;
    this.#connection?.close();
    this.#connection = undefined;
  }
}

if (!customElements.get("gateway-chat")) customElements.define("gateway-chat", GatewayChatElement);
