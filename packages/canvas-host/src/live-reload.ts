// Live reload: a watcher on the canvas root pushes `{"type":"reload"}` to every open page over a WebSocket; the small
// client script injected into each HTML page reloads it. Bursts of changes (an editor's write-rename, the agent
// writing several files) become one reload.
import { type FSWatcher, watch } from "chokidar";
import type { WebSocket } from "ws";

/** The path of the client script and of its WebSocket (reserved: never looked up under the root). */
export const LIVE_RELOAD_SCRIPT_PATH = "/__gateway__/live-reload.js";
export const LIVE_RELOAD_SOCKET_PATH = "/__gateway__/live-reload";

/** The client: reconnects with backoff while the host restarts, reloads the page on a push. */
export const LIVE_RELOAD_CLIENT = `(() => {
  const url = new URL(${JSON.stringify(LIVE_RELOAD_SOCKET_PATH)}, location.href);
  url.protocol = location.protocol === "https:" ? "wss:" : "ws:";
  let delay = 250;
  const connect = () => {
    const socket = new WebSocket(url);
    socket.onopen = () => { delay = 250; };
    socket.onmessage = (event) => {
      try { if (JSON.parse(event.data).type === "reload") location.reload(); } catch {}
    };
    socket.onclose = () => { setTimeout(connect, delay); delay = Math.min(delay * 2, 5000); };
  };
  connect();
})();
`;

/** The tag injected into served HTML. */
export const LIVE_RELOAD_TAG = `<script src="${LIVE_RELOAD_SCRIPT_PATH}"></script>`;

/** Put the live-reload tag before `</body>` (or at the end of a fragment without one). */
export function injectLiveReload(html: string): string {
  const at = html.toLowerCase().lastIndexOf("</body>");
  return at === -1 ? `${html}\n${LIVE_RELOAD_TAG}\n` : `${html.slice(0, at)}${LIVE_RELOAD_TAG}\n${html.slice(at)}`;
}

/** Options of a LiveReload. */
export interface LiveReloadOptions {
  /** Changes closer together than this become one reload. @default 75 */
  debounceMs?: number;
  /** Told about watcher errors (a folder that cannot be read). */
  onError?: (error: Error) => void;
  /** Open pages beyond this are closed with 1013 (try again later). @default 256 */
  maxPages?: number;
}

/** Watches a folder and tells the attached sockets to reload. `close()` is idempotent. */
export class LiveReload {
  readonly #sockets = new Set<WebSocket>();
  readonly #debounceMs: number;
  #watcher: FSWatcher | undefined;
  #timer: NodeJS.Timeout | undefined;
  #ready: Promise<void> | undefined;

  constructor(
    readonly root: string,
    private readonly options: LiveReloadOptions = {},
  ) {
    this.#debounceMs = options.debounceMs ?? 75;
  }

  /** Start watching; resolves once the initial scan is done (changes after it are seen). */
  start(): Promise<void> {
    this.#ready ??= new Promise<void>((resolve) => {
      const watcher = watch(this.root, {
        ignoreInitial: true,
        // Hidden files are never served, so they never reload a page (an editor's swap files, .git).
        ignored: (path) => /(^|[/\\])\.[^/\\]/.test(path.slice(this.root.length)),
        awaitWriteFinish: false,
      });
      watcher.on("all", () => this.#schedule());
      watcher.on("error", (error) => this.options.onError?.(error as Error));
      watcher.once("ready", () => resolve());
      this.#watcher = watcher;
    });
    return this.#ready;
  }

  /** Pages currently listening. */
  get listeners(): number {
    return this.#sockets.size;
  }

  /** Keep a page's socket until it closes. */
  attach(socket: WebSocket): void {
    if (this.#sockets.size >= (this.options.maxPages ?? 256)) {
      socket.close(1013, "too many open canvas pages");
      return;
    }
    this.#sockets.add(socket);
    socket.on("close", () => this.#sockets.delete(socket));
    socket.on("error", () => this.#sockets.delete(socket));
    // Pages only listen; anything they send is ignored.
  }

  /** Tell every page to reload now. */
  reloadAll(): number {
    let sent = 0;
    for (const socket of this.#sockets) {
      if (socket.readyState !== socket.OPEN) continue;
      socket.send('{"type":"reload"}');
      sent += 1;
    }
    return sent;
  }

  #schedule(): void {
    if (this.#timer) return;
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      this.reloadAll();
    }, this.#debounceMs);
    this.#timer.unref();
  }

  async close(): Promise<void> {
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = undefined;
    for (const socket of this.#sockets) socket.close(1001, "canvas host stopping");
    this.#sockets.clear();
    const watcher = this.#watcher;
    this.#watcher = undefined;
    await watcher?.close();
  }
}
