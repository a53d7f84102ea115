// Chat: the sessions, newest first, and the chosen session's conversation.
import type { SessionSummary } from "@gateway/protocol";
import { ChatView } from "../chat-view.js";
import { errorText, formatTime, h, replace } from "../dom.js";
import type { Page, PageContext, PageDefinition } from "./page.js";

const SESSION_KEY = "gateway.chat.session.v1";

function sessionTitle(session: SessionSummary): string {
  const origin = session.origin;
  return session.label || (origin?.peer ? `${origin.channel} · ${origin.peer}` : session.key);
}

function create({ connection }: PageContext): Page {
  const hello = connection.status.state === "open" ? connection.status.hello : undefined;
  const mainKey = hello?.snapshot.sessionDefaults?.mainSessionKey ?? "agent:main:main";
  const chat = new ChatView({ connection, sessionKey: localStorage.getItem(SESSION_KEY) ?? mainKey });
  const list = h("ul", { class: "session-list", "aria-label": "Sessions" });
  const search = h("input", {
    type: "search",
    placeholder: "Filter sessions",
    "aria-label": "Filter sessions",
    oninput: () => void loadSessions(),
  });
  let sessions: SessionSummary[] = [];
  let problem = "";

  const renderList = () => {
    const keys = new Set(sessions.map((session) => session.key));
    const shown = keys.has(chat.sessionKey) ? sessions : [{ key: chat.sessionKey } as SessionSummary, ...sessions];
    replace(
      list,
      problem ? h("li", { class: "error" }, problem) : null,
      shown.map((session) =>
        h(
          "li",
          {},
          h(
            "button",
            {
              type: "button",
              class: `session${session.key === chat.sessionKey ? " current" : ""}`,
              "aria-current": session.key === chat.sessionKey ? "true" : undefined,
              onclick: () => {
                localStorage.setItem(SESSION_KEY, session.key);
                chat.switchTo(session.key);
                renderList();
              },
            },
            h("span", { class: "session-title" }, sessionTitle(session)),
            session.updatedAt ? h("small", {}, formatTime(session.updatedAt)) : null,
          ),
        ),
      ),
    );
  };
  const loadSessions = async () => {
    try {
      const result = await connection.client.request("sessions.list", {
        limit: 50,
        ...(search.value.trim() ? { search: search.value.trim() } : {}),
      });
      sessions = result.sessions;
      problem = "";
    } catch (error) {
      problem = `Could not list sessions: ${errorText(error)}`;
    }
    renderList();
  };

  // A finished run moves its session to the top.
  const stop = connection.client.on("chat", (event) => {
    if (event.state !== "delta") void loadSessions();
  });
  const element = h(
    "section",
    { class: "chat-page", "aria-labelledby": "chat-title" },
    h("h1", { id: "chat-title", class: "visually-hidden" }, "Chat"),
    h("aside", { class: "sessions" }, h("h2", {}, "Sessions"), search, list),
    chat.element,
  );
  void loadSessions();
  queueMicrotask(() => chat.focus());
  return {
    element,
    async refresh() {
      await Promise.all([loadSessions(), chat.reload()]);
    },
    dispose() {
      stop();
      chat.dispose();
    },
  };
}

export const chatPage: PageDefinition = { id: "chat", title: "Chat", create };
