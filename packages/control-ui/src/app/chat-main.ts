// WebChat: one conversation with the agent for people who only talk to it. It asks only for read and write
// scopes, whatever the credential would allow.
import "./styles.css";
import { ChatView } from "./chat-view.js";
import { Connection } from "./connection.js";
import { type Credentials, loadCredentials, takeFragmentCredentials } from "./credentials.js";
import { h, replace } from "./dom.js";
import { outbox } from "./outbox.js";
import { refusalAdvice, signInForm, statusPill, themeSwitch } from "./shell.js";

function start(): void {
  outbox.settleAfterReload();
  let credentials: Credentials | undefined = takeFragmentCredentials(location, history) ?? loadCredentials();
  const pill = statusPill();
  const main = h("main", { id: "main", class: "webchat" });
  document.body.replaceChildren(
    h(
      "header",
      { class: "topbar" },
      h("span", { class: "brand" }, "Chat"),
      pill.element,
      h("span", { class: "spacer" }),
      themeSwitch(),
    ),
    main,
  );
  let connection: Connection | undefined;
  let chat: ChatView | undefined;

  const connect = () => {
    connection?.close();
    chat?.dispose();
    chat = undefined;
    replace(main, h("p", { class: "muted" }, "Connecting…"));
    const current = new Connection({
      credentials,
      client: { id: "webchat-ui", mode: "webchat", displayName: "WebChat" },
      scopes: ["operator.read", "operator.write"],
      onStatus(status) {
        pill.update(status);
        if (status.state === "open" && !chat) {
          const sessionKey = status.hello.snapshot.sessionDefaults?.mainSessionKey ?? "agent:main:main";
          chat = new ChatView({ connection: current, sessionKey });
          replace(main, h("h1", { class: "visually-hidden" }, "Chat with the agent"), chat.element);
          chat.focus();
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
      onResync: () => void chat?.reload(),
    });
    connection = current;
  };
  connect();
}

start();
