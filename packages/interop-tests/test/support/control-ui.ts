// The reference's Control UI bundle in Debian's chromium (playwright-core, never a downloaded browser), pointed at a
// gateway of ours: it records what the page said (console errors, uncaught errors) and every answer our gateway gave
// it, so a test can assert that the UI's protocol use met no invalid-params refusals and no missing core methods.
import { type Browser, chromium, type Page } from "playwright-core";

/** One request the page made and how our gateway answered it. */
export interface UiCall {
  method: string;
  ok: boolean;
  payload?: unknown;
  error?: { code: string; message: string };
  /** The response frame as received. */
  frame: unknown;
}

/** One event frame our gateway sent the page. */
export interface UiEvent {
  event: string;
  payload: unknown;
  frame: unknown;
}

/** A page of the Control UI and what it saw. */
export interface ControlUiPage {
  page: Page;
  calls: UiCall[];
  events: UiEvent[];
  consoleErrors: string[];
  pageErrors: string[];
  /** Go to a route of the single-page app without reloading it (its router follows history). */
  navigate(path: string): Promise<void>;
  /** The visible alert banners' texts. */
  alerts(): Promise<string[]>;
  close(): Promise<void>;
}

export const CHROMIUM = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";

/** Open the bundle served at `uiOrigin`, pointed at our gateway at `gatewayUrl` with token auth. */
export async function openControlUi(uiOrigin: string, gatewayUrl: string, token: string): Promise<ControlUiPage> {
  const browser: Browser = await chromium.launch({ executablePath: CHROMIUM, args: ["--no-sandbox"] });
  const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
  const calls: UiCall[] = [];
  const events: UiEvent[] = [];
  const consoleErrors: string[] = [];
  const pageErrors: string[] = [];
  const pending = new Map<string, string>();
  page.on("console", (message) => {
    if (message.type() === "error") consoleErrors.push(message.text());
  });
  page.on("pageerror", (error) => pageErrors.push(error.message));
  page.on("websocket", (socket) => {
    if (!socket.url().startsWith(gatewayUrl)) return;
    socket.on("framesent", ({ payload }) => {
      const frame = parse(payload);
      if (frame?.type === "req") pending.set(frame.id, frame.method);
    });
    socket.on("framereceived", ({ payload }) => {
      const frame = parse(payload);
      if (frame?.type === "event") events.push({ event: frame.event, payload: frame.payload, frame });
      if (frame?.type !== "res" || !pending.has(frame.id)) return;
      const method = pending.get(frame.id)!;
      // Two-phase methods answer twice; the first (accepted) answer keeps the request pending.
      if (frame.payload?.status !== "accepted") pending.delete(frame.id);
      calls.push({
        method,
        ok: frame.ok === true,
        ...(frame.payload !== undefined ? { payload: frame.payload } : {}),
        ...(frame.error ? { error: frame.error } : {}),
        frame,
      });
    });
  });
  // The UI takes the gateway from `?gatewayUrl=` and the token from the fragment, then asks to confirm a new URL.
  await page.goto(`${uiOrigin}/?gatewayUrl=${encodeURIComponent(gatewayUrl)}#token=${encodeURIComponent(token)}`);
  await page.getByRole("button", { name: "Confirm" }).click({ timeout: 30_000 });
  return {
    page,
    calls,
    events,
    consoleErrors,
    pageErrors,
    async navigate(path) {
      await page.evaluate((to) => {
        history.pushState({}, "", to);
        dispatchEvent(new PopStateEvent("popstate"));
      }, path);
    },
    alerts: () => page.locator('[role="alert"]:visible').allInnerTexts(),
    close: () => browser.close(),
  };
}

/** A frame as the page sent or received it (any JSON). */
function parse(payload: string | Buffer): any {
  try {
    return JSON.parse(String(payload));
  } catch {
    return undefined;
  }
}
