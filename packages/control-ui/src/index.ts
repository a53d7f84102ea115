import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";

/**
 * The directory of the built Control UI (index.html, chat.html, assets/) for the gateway to serve. Looked up beside
 * this module (`ui/`: the gateway app ships it next to its bundle), then in this package's `dist/ui` (a workspace
 * running from sources) — which is returned even when missing: the gateway then says how to build it.
 */
export function controlUiRoot(): string {
  const candidates = [new URL("./ui/", import.meta.url), new URL("../dist/ui/", import.meta.url)].map((url) =>
    fileURLToPath(url),
  );
  return (
    candidates.find((path) => existsSync(`${path}index.html`) && existsSync(`${path}assets`)) ??
    candidates[candidates.length - 1]!
  );
}

/** The client id the Control UI connects with, and the WebChat page's. */
export const CONTROL_UI_CLIENT_ID = "openclaw-control-ui";
export const WEBCHAT_CLIENT_ID = "webchat-ui";
