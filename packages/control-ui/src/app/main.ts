// The Control UI: sign in, then the pages, with a connection pill; every page keeps its last data while the
// gateway is away and refreshes when it is back (or when events were missed).
import "./styles.css";
import { Connection, type ConnectionStatus } from "./connection.js";
import { type Credentials, clearCredentials, loadCredentials, takeFragmentCredentials } from "./credentials.js";
import { browserDevice } from "./device.js";
import { h, replace } from "./dom.js";
import { outbox } from "./outbox.js";
import { channelsPage } from "./pages/channels.js";
import { chatPage } from "./pages/chat.js";
import { configPage } from "./pages/config.js";
import { cronPage } from "./pages/cron.js";
import { debugPage } from "./pages/debug.js";
import { logsPage } from "./pages/logs.js";
import { overviewPage } from "./pages/overview.js";
import type { Page, PageDefinition } from "./pages/page.js";
import { pairingPage } from "./pages/pairing.js";
import { refusalAdvice, signInForm, statusPill, themeSwitch } from "./shell.js";
import { APPROVAL_RETRY_MS, waitingForApproval } from "./waiting.js";

const PAGES: PageDefinition[] = [
  overviewPage,
  chatPage,
  channelsPage,
  pairingPage,
  cronPage,
  configPage,
  logsPage,
  debugPage,
];

function pageFromHash(): PageDefinition {
  const id = location.hash.replace(/^#\/?/, "");
  return PAGES.find((page) => page.id === id) ?? PAGES[0]!;
}

async function start(): Promise<void> {
  const device = await browserDevice();
  outbox.settleAfterReload();
  let credentials: Credentials | undefined = takeFragmentCredentials(location, history) ?? loadCredentials();
  const pill = statusPill();
  const main = h("main", { id: "main", tabindex: -1 });
  const nav = h("nav", { "aria-label": "Pages" });
  const signOut = h("button", { type: "button", class: "link", hidden: true }, "Sign out");
  const header = h(
    "header",
    { class: "topbar" },
    h(
      "a",
      {
        class: "skip",
        href: "#main",
        onclick: (event: Event) => {
          event.preventDefault();
          main.focus();
        },
      },
      "Skip to content",
    ),
    h("span", { class: "brand" }, "Gateway"),
    pill.element,
    h("span", { class: "spacer" }),
    themeSwitch(),
    signOut,
  );
  document.body.replaceChildren(header, h("div", { class: "layout" }, nav, main));

  let connection: Connection | undefined;
  let current: { definition: PageDefinition; page: Page } | undefined;
  /** While the gateway has not approved this browser: the next retry (the waiting card stays shown meanwhile). */
  let approvalRetry: ReturnType<typeof setTimeout> | undefined;

  const renderNav = () => {
    const active = pageFromHash();
    replace(
      nav,
      h(
        "ul",
        {},
        PAGES.map((page) =>
          h(
            "li",
            {},
            h("a", { href: `#/${page.id}`, "aria-current": page === active ? "page" : undefined }, page.title),
          ),
        ),
      ),
    );
  };

  const show = () => {
    renderNav();
    if (connection?.status.state !== "open") return;
    const definition = pageFromHash();
    if (current?.definition === definition) return;
    current?.page.dispose();
    current = { definition, page: definition.create({ connection }) };
    document.title = `${definition.title} · Gateway`;
    replace(main, current.page.element);
  };

  const connect = (waiting = false) => {
    clearTimeout(approvalRetry);
    approvalRetry = undefined;
    connection?.close();
    current?.page.dispose();
    current = undefined;
    signOut.hidden = credentials === undefined;
    if (!waiting) replace(main, h("p", { class: "muted" }, "Connecting…"));
    connection = new Connection({
      credentials,
      client: { id: "openclaw-control-ui", mode: "ui", displayName: "Control UI" },
      ...(device ? { device } : {}),
      onStatus(status: ConnectionStatus) {
        // While waiting for approval the pill says so, between retries too.
        if (!(waiting && status.state === "connecting")) pill.update(status);
        if (status.state === "open") show();
        if (status.state === "refused" && status.code === "PAIRING_REQUIRED") {
          replace(main, waitingForApproval(status.requestId, device?.deviceId));
          approvalRetry = setTimeout(() => connect(true), APPROVAL_RETRY_MS);
        } else if (status.state === "refused") {
          current?.page.dispose();
          current = undefined;
          replace(
            main,
            signInForm(refusalAdvice(status.code, status.message), (next) => {
              credentials = next;
              connect();
            }),
          );
        }
      },
      onResync: () => void current?.page.refresh(),
    });
  };

  signOut.addEventListener("click", () => {
    clearTimeout(approvalRetry);
    clearCredentials();
    credentials = undefined;
    connection?.close();
    current?.page.dispose();
    current = undefined;
    signOut.hidden = true;
    pill.update({ state: "refused", code: "SIGNED_OUT", message: "signed out" });
    replace(
      main,
      signInForm(undefined, (next) => {
        credentials = next;
        connect();
      }),
    );
  });
  window.addEventListener("hashchange", show);
  if (!location.hash) history.replaceState(null, "", "#/overview");
  connect();
}

void start();
