// What every page of the app shares: the connection status pill, the theme switch, the sign-in form.
import type { ConnectionStatus } from "./connection.js";
import { type Credentials, saveCredentials } from "./credentials.js";
import { h, replace } from "./dom.js";

/** The pill in the header: connected, reconnecting (with the page still usable), or refused. */
export function statusPill(): { element: HTMLElement; update(status: ConnectionStatus): void } {
  const element = h("span", { class: "pill connecting", role: "status", "aria-live": "polite" }, "Connecting…");
  return {
    element,
    update(status) {
      element.className = `pill ${status.state}`;
      element.textContent =
        status.state === "open"
          ? `Connected · ${status.hello.server.version}`
          : status.state === "refused"
            ? status.code === "PAIRING_REQUIRED"
              ? "Waiting for approval"
              : "Not connected"
            : status.state === "reconnecting"
              ? "Reconnecting… (showing the last data)"
              : "Connecting…";
    },
  };
}

const THEME_KEY = "gateway.theme.v1";

/** Apply the kept theme (light, dark, or the system's) and return a button that cycles it. */
export function themeSwitch(): HTMLButtonElement {
  const apply = (theme: string) => {
    if (theme === "system") delete document.documentElement.dataset.theme;
    else document.documentElement.dataset.theme = theme;
  };
  let theme = localStorage.getItem(THEME_KEY) ?? "system";
  apply(theme);
  const label = () => `Theme: ${theme}`;
  const button = h(
    "button",
    { type: "button", class: "link", title: "Switch between light, dark and the system's theme" },
    label(),
  );
  button.addEventListener("click", () => {
    theme = theme === "system" ? "light" : theme === "light" ? "dark" : "system";
    localStorage.setItem(THEME_KEY, theme);
    apply(theme);
    button.textContent = label();
  });
  return button;
}

/** Why the browser cannot connect, in words, with the fix. */
export function refusalAdvice(code: string, message: string): string {
  if (/AUTH|UNAUTHORIZED|TOKEN|PASSWORD/i.test(code))
    return "The gateway did not accept these credentials. Paste the token from `gateway status` (or the config's gateway.auth.token).";
  if (code === "ORIGIN_NOT_ALLOWED")
    return "The gateway refuses this page's address. Open the URL `gateway status` prints, or add this origin to gateway.controlUi.allowedOrigins.";
  if (/RATE|LIMIT/i.test(code)) return `Too many failed attempts: ${message}`;
  if (code === "PAIRING_REQUIRED")
    return "This browser is waiting for approval: run `gateway devices approve --latest` on the gateway's machine (or approve it from a Control UI that is signed in), then sign in again.";
  if (code === "CONTROL_UI_DEVICE_IDENTITY_REQUIRED")
    return "This page is not a secure context (https or localhost), so the browser cannot make a device identity. Open the UI over https (e.g. `tailscale serve`) or through an SSH tunnel to localhost — or, on a network you trust, set gateway.controlUi.allowInsecureAuth: true.";
  return message;
}

/** The sign-in form: a token or a password, kept in this browser. */
export function signInForm(reason: string | undefined, onSignIn: (credentials: Credentials) => void): HTMLElement {
  const secret = h("input", {
    id: "sign-in-secret",
    type: "password",
    autocomplete: "current-password",
    required: true,
    placeholder: "gateway token",
  });
  const kind = h(
    "select",
    { id: "sign-in-kind", "aria-label": "Credential type" },
    h("option", { value: "token" }, "Token"),
    h("option", { value: "password" }, "Password"),
  );
  const form = h(
    "form",
    {
      class: "card sign-in",
      "aria-label": "Sign in",
      onsubmit: (event: Event) => {
        event.preventDefault();
        const value = secret.value.trim();
        if (!value) return;
        const credentials: Credentials = kind.value === "password" ? { password: value } : { token: value };
        saveCredentials(credentials);
        onSignIn(credentials);
      },
    },
    h("h2", {}, "Sign in to your gateway"),
    reason ? h("p", { class: "error", role: "alert" }, reason) : null,
    h(
      "p",
      {},
      "Open the link `gateway status` prints (it carries the token after #), or paste the token here. It is kept in this browser only.",
    ),
    h("div", { class: "field-row" }, h("label", { for: "sign-in-kind" }, "Type"), kind),
    h("div", { class: "field-row" }, h("label", { for: "sign-in-secret" }, "Secret"), secret),
    h("button", { class: "primary", type: "submit" }, "Connect"),
  );
  return form;
}

/** Show a short message at the bottom of the screen. */
export function toast(text: string, kind: "info" | "error" = "info"): void {
  let area = document.getElementById("toasts");
  if (!area) {
    area = h("div", { id: "toasts", role: "status", "aria-live": "polite" });
    document.body.appendChild(area);
  }
  const item = h("div", { class: `toast ${kind}` }, text);
  area.appendChild(item);
  setTimeout(() => item.remove(), 5_000);
}

export { replace };
