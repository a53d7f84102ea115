// The page's one connection to the gateway that served it, through @gateway/client. The WebSocket URL comes from
// the page itself (its origin and the path the gateway wrote into <meta name="gateway-ws-path">), never from a URL
// parameter: a page that connects where a link tells it to hands the user's token to whoever wrote the link
// (CVE-2026-25253).
import {
  type ClientState,
  createGatewayClient,
  type DeviceIdentity,
  type GatewayClient,
  GatewayClientError,
  randomId,
} from "@gateway/client";
import type { HelloOk } from "@gateway/protocol";
import type { Credentials } from "./credentials.js";

/** What the page shows about the connection. */
export type ConnectionStatus =
  | { state: "connecting" | "reconnecting" }
  | { state: "open"; hello: HelloOk }
  | { state: "refused"; code: string; message: string; requestId?: string };

/** Where this page's gateway listens: same host and port, ws:// or wss:// as the page. */
export function gatewayUrl(): string {
  const path = document.querySelector<HTMLMetaElement>('meta[name="gateway-ws-path"]')?.content || "/";
  const scheme = location.protocol === "https:" ? "wss:" : "ws:";
  return `${scheme}//${location.host}${path.startsWith("/") ? path : `/${path}`}`;
}

/** This browser's id for the presence list: one per browser and page kind, kept across reloads. */
function instanceId(mode: string): string {
  const key = `gateway.instance.v1:${mode}`;
  let id = localStorage.getItem(key);
  if (!id) {
    id = `${mode}-${randomId()}`;
    localStorage.setItem(key, id);
  }
  return id;
}

/** Options of a Connection. */
export interface ConnectionOptions {
  credentials: Credentials | undefined;
  /** Where to connect. @default the gateway that served this page (`gatewayUrl()`) */
  url?: string;
  client: { id: string; mode: string; displayName: string };
  /** Scopes to ask for (WebChat asks only for read and write). @default all of the credential's */
  scopes?: string[];
  /** This browser's device identity (`browserDevice()`): the connect is signed with it. */
  device?: DeviceIdentity;
  onStatus(status: ConnectionStatus): void;
  /** Events were missed, or the connection came back: refetch what the page shows. */
  onResync(): void;
}

/** A reconnecting client with the page's status; the connect is signed with the browser's device identity. */
export class Connection {
  readonly client: GatewayClient;
  /** This browser's device id, when it has an identity. */
  readonly deviceId: string | undefined;
  #status: ConnectionStatus = { state: "connecting" };
  #opens = 0;

  constructor(options: ConnectionOptions) {
    const credentials = options.credentials;
    this.deviceId = options.device?.deviceId;
    this.client = createGatewayClient({
      url: options.url ?? gatewayUrl(),
      ...(credentials && "token" in credentials ? { token: credentials.token } : {}),
      ...(credentials && "password" in credentials ? { password: credentials.password } : {}),
      client: { ...options.client, version: "0.1.0", platform: "web", instanceId: instanceId(options.client.mode) },
      ...(options.scopes ? { scopes: options.scopes } : {}),
      ...(options.device ? { device: options.device } : {}),
      reconnect: { initialDelayMs: 500, maxDelayMs: 5_000 },
      onGap: () => options.onResync(),
      onStateChange: (state: ClientState) => {
        if (state === "open") {
          const hello = this.client.hello;
          if (!hello) return;
          this.#set({ state: "open", hello }, options);
          if (this.#opens++ > 0) options.onResync();
        } else if (state === "connecting" || state === "reconnecting") this.#set({ state }, options);
      },
    });
    this.client.ready().catch((error: unknown) => {
      const known = GatewayClientError.isInstance(error) ? error : undefined;
      const code = known ? (known.detailCode ?? known.code) : "UNAVAILABLE";
      const requestId = (known?.details as { requestId?: unknown } | undefined)?.requestId;
      this.#set(
        {
          state: "refused",
          code,
          message: error instanceof Error ? error.message : String(error),
          ...(typeof requestId === "string" ? { requestId } : {}),
        },
        options,
      );
    });
  }

  get status(): ConnectionStatus {
    return this.#status;
  }

  /** The scopes the gateway granted. */
  get scopes(): readonly string[] {
    return this.#status.state === "open" ? this.#status.hello.auth.scopes : [];
  }

  close(): void {
    this.client.close();
  }

  #set(status: ConnectionStatus, options: ConnectionOptions): void {
    this.#status = status;
    options.onStatus(status);
  }
}
