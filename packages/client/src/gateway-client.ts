import type {
  AgentParams,
  AgentResult,
  ClientInfo,
  EventName,
  EventPayload,
  HelloOk,
  MethodName,
  MethodParams,
  MethodResult,
} from "@gateway/protocol";
import { PROTOCOL_VERSION, SIDE_EFFECTING_METHODS } from "@gateway/protocol/constants";
import type { DeviceIdentity } from "./device-identity.js";
import { connectRefusal, GatewayClientError } from "./errors.js";
import { randomId } from "./random-id.js";
import { canCheckTls, tlsCheckedWebSocket } from "./tls-websocket.js";

/** Every operator scope: what an operator client asks for when it names none (an omitted list grants nothing). */
export const ALL_OPERATOR_SCOPES: readonly string[] = [
  "operator.read",
  "operator.write",
  "operator.admin",
  "operator.approvals",
  "operator.pairing",
];

/**
 * Params as a caller passes them: `idempotencyKey` may be left out (side-effecting methods get a generated one).
 * Written without a conditional type so that TypeScript checks a params variable against it directly.
 */
export type RequestParams<M extends MethodName> = OptionalIdempotencyKey<MethodParams<M>>;
/** Per branch of a union (`{id} | {jobId}`): a plain Omit would keep only the keys common to every branch. */
type OptionalIdempotencyKey<P> = P extends unknown
  ? Omit<P, "idempotencyKey"> & Partial<Pick<P, Extract<keyof P, "idempotencyKey">>>
  : never;

/** Methods that answer twice under one request id: an ack (`status: "accepted"`), then the final result. */
const TWO_PHASE_METHODS = new Set(["agent"]);

/** The connection's state. */
export type ClientState = "connecting" | "open" | "reconnecting" | "closed";

/** Reconnect with exponential backoff and jitter. */
export interface ReconnectOptions {
  /** @default 250 */
  initialDelayMs?: number;
  /** @default 10000 */
  maxDelayMs?: number;
  /** @default 2 */
  factor?: number;
  /** Random spread of each delay, as a fraction. @default 0.3 */
  jitter?: number;
}

/** The WebSocket constructor the client uses (the platform's: browsers and Node ≥ 22 have one). */
export type WebSocketConstructor = new (url: string) => WebSocket;

/** Options of `createGatewayClient`. */
export interface GatewayClientOptions {
  /** `ws://127.0.0.1:18789` */
  url: string;
  token?: string;
  password?: string;
  deviceToken?: string;
  /** Who is connecting. @default { id: "gateway-client", mode: "backend" } */
  client?: Partial<ClientInfo>;
  /** @default "operator" */
  role?: "operator" | "node";
  /** Scopes to ask for (always sent explicitly). @default every operator scope for an operator, none for a node */
  scopes?: string[];
  /**
   * Sign the connect with this device identity (`loadDeviceIdentity(store)`): the gateway pairs the device, hands
   * out a device token (kept in the identity's store), and later connects need only that token.
   */
  device?: DeviceIdentity;
  /** A node's declared capabilities and commands (role `node`). */
  caps?: string[];
  commands?: string[];
  permissions?: Record<string, boolean>;
  /** Reconnect after a dropped connection. `false` for one-shot tools (the CLI). @default true */
  reconnect?: boolean | ReconnectOptions;
  /** @default 30000 */
  requestTimeoutMs?: number;
  /**
   * Node only: the SHA-256 fingerprint (`AB:CD:…`, as `gateway status` prints it) the gateway's wss:// certificate
   * must have. Checked on the TLS socket before anything is sent; a self-signed certificate is accepted only when
   * pinned. A mismatch fails with `TLS_FINGERPRINT_MISMATCH` naming both fingerprints.
   */
  tlsFingerprint?: string;
  /** @default globalThis.WebSocket (in Node, for wss://, one whose certificate check names the fingerprint to pin) */
  WebSocket?: WebSocketConstructor;
  /** Events were missed (a `seq` gap): refetch the state you mirror. */
  onGap?: (gap: { expected: number; received: number }) => void;
  onStateChange?: (state: ClientState) => void;
}

/** Options of one request. */
export interface RequestOptions {
  /** @default the client's requestTimeoutMs */
  timeoutMs?: number;
  /** Retries after a dropped connection (the same idempotencyKey is reused). @default 2 when reconnecting */
  retries?: number;
}

interface Pending {
  resolve(value: unknown): void;
  reject(error: GatewayClientError): void;
  timer: ReturnType<typeof setTimeout>;
  onAccepted: ((payload: unknown) => void) | undefined;
}

interface Deferred<T> {
  promise: Promise<T>;
  resolve(value: T): void;
  reject(error: unknown): void;
}

function deferred<T>(): Deferred<T> {
  let resolve!: (value: T) => void;
  let reject!: (error: unknown) => void;
  const promise = new Promise<T>((yes, no) => {
    resolve = yes;
    reject = no;
  });
  promise.catch(() => {}); // observed by whoever awaits it
  return { promise, resolve, reject };
}

type Listener = (payload: unknown, event: string) => void;

/**
 * A connection to a gateway: handshake per protocol 4, typed requests, events, reconnect with backoff and jitter,
 * `seq` gap detection, a tick watchdog, and generated idempotency keys that are reused on retry.
 */
export class GatewayClient {
  readonly #options: GatewayClientOptions;
  readonly #WebSocket: WebSocketConstructor;
  #socket: WebSocket | undefined;
  #state: ClientState = "connecting";
  #hello: HelloOk | undefined;
  #whenOpen = deferred<HelloOk>();
  readonly #pending = new Map<string, Pending>();
  readonly #listeners = new Map<string, Set<Listener>>();
  #nextId = 0;
  #attempt = 0;
  #everOpened = false;
  #closedByUser = false;
  #lastSeq = 0;
  #lastMessageAt = 0;
  #watchdog: ReturnType<typeof setInterval> | undefined;
  #reconnectTimer: ReturnType<typeof setTimeout> | undefined;
  #restartHintMs: number | undefined;
  #sentDeviceToken: string | undefined;
  /** Why the TLS check refused the gateway's certificate (the socket itself only reports a network error). */
  #tlsRefusal: GatewayClientError | undefined;

  constructor(options: GatewayClientOptions) {
    this.#options = options;
    const checkTls = !options.WebSocket && (options.tlsFingerprint !== undefined || /^wss:/i.test(options.url));
    if (options.tlsFingerprint !== undefined && options.WebSocket)
      throw new Error("tlsFingerprint and a WebSocket of your own cannot be combined: the pin is checked by ours");
    if (options.tlsFingerprint !== undefined && !canCheckTls())
      throw new Error("tlsFingerprint works in Node only (≥ 22.3): a browser checks certificates itself");
    const WebSocketImpl =
      options.WebSocket ??
      (checkTls && canCheckTls()
        ? tlsCheckedWebSocket(options.tlsFingerprint, (error) => {
            this.#tlsRefusal = error;
          })
        : (globalThis as { WebSocket?: WebSocketConstructor }).WebSocket);
    if (!WebSocketImpl)
      throw new Error("no WebSocket implementation: pass options.WebSocket (Node ≥ 22 and browsers have one)");
    this.#WebSocket = WebSocketImpl;
    this.#open();
  }

  /** The connection's state. */
  get state(): ClientState {
    return this.#state;
  }

  /** The last `hello-ok` (server, features, snapshot, granted auth, policy). */
  get hello(): HelloOk | undefined {
    return this.#hello;
  }

  /** Resolves once connected (again); rejects when the gateway refuses the handshake or cannot be reached. */
  ready(): Promise<HelloOk> {
    return this.#whenOpen.promise;
  }

  /** Call a protocol method; params and result are typed from the protocol's method table. */
  request<M extends MethodName>(
    method: M,
    params?: RequestParams<M>,
    options?: RequestOptions,
  ): Promise<MethodResult<M>> {
    return this.call(method, params ?? {}, options) as Promise<MethodResult<M>>;
  }

  /** Call any method by name (a plugin's own, or one this SDK version does not know yet); untyped. */
  async call(method: string, params: unknown = {}, options: RequestOptions = {}): Promise<unknown> {
    // Two-phase methods answer first with an ack: the promise is for the final answer.
    const onAccepted = TWO_PHASE_METHODS.has(method) ? () => {} : undefined;
    return this.#withRetries(method, this.#withIdempotencyKey(method, params), options, onAccepted);
  }

  /** Run an agent turn: resolves with the final result; `onAccepted` gets the first answer (the run id). */
  agent(
    params: RequestParams<"agent">,
    options: RequestOptions & { onAccepted?: (accepted: { runId: string; acceptedAt: number }) => void } = {},
  ): Promise<AgentResult> {
    const prepared = this.#withIdempotencyKey("agent", params) as AgentParams;
    return this.#withRetries("agent", prepared, options, (payload) =>
      options.onAccepted?.(payload as { runId: string; acceptedAt: number }),
    ) as Promise<AgentResult>;
  }

  /** Listen to an event (typed), or to every event with `"*"`. Returns a function that unsubscribes. */
  on<E extends EventName>(event: E, handler: (payload: EventPayload<E>) => void): () => void;
  on(event: "*", handler: (payload: unknown, event: string) => void): () => void;
  on(event: string, handler: (payload: unknown, event: string) => void): () => void;
  on(event: string, handler: Listener): () => void {
    let set = this.#listeners.get(event);
    if (!set) {
      set = new Set();
      this.#listeners.set(event, set);
    }
    set.add(handler);
    return () => set.delete(handler);
  }

  /** Close for good: pending requests fail with CLOSED; no reconnect. */
  close(): void {
    if (this.#closedByUser) return;
    this.#closedByUser = true;
    clearTimeout(this.#reconnectTimer);
    this.#stopWatchdog();
    this.#failPending(new GatewayClientError("CLOSED", "the client was closed"));
    this.#whenOpen.reject(new GatewayClientError("CLOSED", "the client was closed"));
    this.#setState("closed");
    try {
      this.#socket?.close(1000, "client closed");
    } catch {
      // already closing
    }
  }

  async #withRetries(
    method: string,
    params: unknown,
    options: RequestOptions,
    onAccepted: ((payload: unknown) => void) | undefined,
  ): Promise<unknown> {
    const retries = options.retries ?? (this.#reconnectEnabled() ? 2 : 0);
    for (let attempt = 0; ; attempt++) {
      try {
        return await this.#send(method, params, options, onAccepted);
      } catch (error) {
        const retry = GatewayClientError.isInstance(error) && error.code === "DISCONNECTED" && attempt < retries;
        if (!retry) throw error;
      }
    }
  }

  async #send(
    method: string,
    params: unknown,
    options: RequestOptions,
    onAccepted: ((payload: unknown) => void) | undefined,
  ): Promise<unknown> {
    const timeoutMs = options.timeoutMs ?? this.#options.requestTimeoutMs ?? 30_000;
    const started = Date.now();
    let waitTimer: ReturnType<typeof setTimeout> | undefined;
    const waited = new Promise<never>((_, reject) => {
      waitTimer = setTimeout(
        () =>
          reject(
            new GatewayClientError("TIMEOUT", `${method}: not connected within ${timeoutMs} ms`, { retryable: true }),
          ),
        timeoutMs,
      );
    });
    try {
      await Promise.race([this.#whenOpen.promise, waited]);
    } finally {
      clearTimeout(waitTimer);
    }
    if (this.#closedByUser) throw new GatewayClientError("CLOSED", "the client was closed");
    const socket = this.#socket!;
    if (socket.readyState !== 1) {
      throw new GatewayClientError("DISCONNECTED", "the connection to the gateway is closing", { retryable: true });
    }
    const id = `${++this.#nextId}`;
    return new Promise((resolve, reject) => {
      const remaining = Math.max(1, timeoutMs - (Date.now() - started));
      const timer = setTimeout(() => {
        this.#pending.delete(id);
        reject(
          new GatewayClientError("TIMEOUT", `${method} got no answer within ${timeoutMs} ms`, { retryable: true }),
        );
      }, remaining);
      this.#pending.set(id, { resolve, reject, timer, onAccepted });
      socket.send(JSON.stringify({ type: "req", id, method, params }));
    });
  }

  #withIdempotencyKey(method: string, params: unknown): unknown {
    if (!SIDE_EFFECTING_METHODS.includes(method)) return params;
    const object = (params ?? {}) as { idempotencyKey?: string };
    return object.idempotencyKey ? object : { ...object, idempotencyKey: randomId() };
  }

  #reconnectEnabled(): boolean {
    return this.#options.reconnect !== false;
  }

  #setState(state: ClientState): void {
    if (this.#state === state) return;
    this.#state = state;
    this.#options.onStateChange?.(state);
  }

  #open(): void {
    this.#setState(this.#everOpened ? "reconnecting" : "connecting");
    let socket: WebSocket;
    try {
      socket = new this.#WebSocket(this.#options.url);
    } catch (error) {
      this.#fail(new GatewayClientError("UNREACHABLE", `invalid gateway URL ${this.#options.url}`, { cause: error }));
      return;
    }
    this.#socket = socket;
    socket.onmessage = (message) => {
      if (socket === this.#socket) this.#onMessage(String(message.data));
    };
    socket.onclose = (event) => {
      if (socket === this.#socket) this.#onClose(event.code, event.reason);
    };
    socket.onerror = () => {};
  }

  async #connectParams(nonce: string) {
    const options = this.#options;
    const client = {
      id: "gateway-client",
      version: "0.1.0",
      platform: typeof process !== "undefined" && process.platform ? process.platform : "browser",
      mode: "backend",
      ...options.client,
    };
    const role = options.role ?? "operator";
    const scopes = options.scopes ?? (role === "operator" ? [...ALL_OPERATOR_SCOPES] : []);
    // A cached device token stands in for the shared secret (the gateway issued it to this device and role).
    const cached = options.device && !options.token && !options.password ? options.device.token(role) : undefined;
    const deviceToken = options.deviceToken ?? cached?.token;
    this.#sentDeviceToken = deviceToken;
    const auth = {
      ...(options.token ? { token: options.token } : {}),
      ...(options.password ? { password: options.password } : {}),
      ...(deviceToken ? { deviceToken } : {}),
    };
    const device = options.device
      ? await options.device.sign({
          clientId: client.id,
          clientMode: client.mode,
          role,
          scopes,
          signedAtMs: Date.now(),
          token: options.token ?? deviceToken,
          nonce,
          platform: client.platform,
          deviceFamily: client.deviceFamily,
        })
      : undefined;
    return {
      minProtocol: PROTOCOL_VERSION,
      maxProtocol: PROTOCOL_VERSION,
      client,
      role,
      scopes,
      ...(options.caps ? { caps: options.caps } : {}),
      ...(options.commands ? { commands: options.commands } : {}),
      ...(options.permissions ? { permissions: options.permissions } : {}),
      ...(Object.keys(auth).length > 0 ? { auth } : {}),
      ...(device ? { device } : {}),
    };
  }

  #onMessage(text: string): void {
    this.#lastMessageAt = Date.now();
    let frame: {
      type?: string;
      id?: string;
      ok?: boolean;
      payload?: unknown;
      error?: never;
      event?: string;
      seq?: number;
    };
    try {
      frame = JSON.parse(text);
    } catch {
      return;
    }
    if (frame.type === "event") {
      if (frame.event === "connect.challenge" && !this.#hello) {
        const socket = this.#socket;
        const nonce = String((frame.payload as { nonce?: unknown } | undefined)?.nonce ?? "");
        this.#connectParams(nonce).then(
          (params) => {
            if (socket === this.#socket && !this.#hello)
              socket?.send(JSON.stringify({ type: "req", id: "connect", method: "connect", params }));
          },
          (error: unknown) =>
            this.#fail(
              new GatewayClientError("CLOSED", `could not sign the connect: ${(error as Error).message}`, {
                cause: error,
              }),
            ),
        );
        return;
      }
      if (typeof frame.seq === "number") {
        if (this.#lastSeq > 0 && frame.seq > this.#lastSeq + 1) {
          this.#options.onGap?.({ expected: this.#lastSeq + 1, received: frame.seq });
        }
        this.#lastSeq = frame.seq;
      }
      if (frame.event === "shutdown") {
        const hint = (frame.payload as { restartExpectedMs?: number } | undefined)?.restartExpectedMs;
        this.#restartHintMs = hint;
      }
      this.#emit(frame.event ?? "", frame.payload);
      return;
    }
    if (frame.type !== "res" || frame.id === undefined) return;
    if (frame.id === "connect" && !this.#hello) {
      if (frame.ok) this.#opened(frame.payload as HelloOk);
      else this.#refused(frame.error as never);
      return;
    }
    const pending = this.#pending.get(frame.id);
    if (!pending) return;
    if (frame.ok && pending.onAccepted && (frame.payload as { status?: string } | undefined)?.status === "accepted") {
      pending.onAccepted(frame.payload);
      pending.onAccepted = undefined;
      return;
    }
    this.#pending.delete(frame.id);
    clearTimeout(pending.timer);
    if (frame.ok) pending.resolve(frame.payload);
    else pending.reject(GatewayClientError.fromShape(frame.error as never));
  }

  #opened(hello: HelloOk): void {
    this.#hello = hello;
    const device = this.#options.device;
    if (device && hello.auth.deviceToken) {
      void device
        .setToken(hello.auth.role, {
          token: hello.auth.deviceToken,
          scopes: [...hello.auth.scopes],
          ...(hello.auth.issuedAtMs !== undefined ? { issuedAtMs: hello.auth.issuedAtMs } : {}),
        })
        .catch(() => undefined);
    }
    this.#everOpened = true;
    this.#attempt = 0;
    this.#lastSeq = 0;
    this.#restartHintMs = undefined;
    this.#setState("open");
    this.#startWatchdog(hello.policy.tickIntervalMs);
    this.#whenOpen.resolve(hello);
  }

  #refused(shape: { code: string; message: string; details?: unknown; retryAfterMs?: number }): void {
    const error = connectRefusal(shape as never);
    // A cached device token that was rotated or revoked is forgotten: the next connect pairs again.
    const device = this.#options.device;
    if (device && this.#sentDeviceToken && error.detailCode === "AUTH_DEVICE_TOKEN_MISMATCH")
      void device.setToken(this.#options.role ?? "operator", undefined).catch(() => undefined);
    if (error.retryable && this.#reconnectEnabled()) {
      // Rate limited: wait as told, then try again.
      this.#restartHintMs = error.retryAfterMs;
      return;
    }
    this.#fail(error);
  }

  /** A fatal error: no reconnect. */
  #fail(error: GatewayClientError): void {
    this.#closedByUser = true;
    this.#stopWatchdog();
    this.#failPending(error);
    this.#whenOpen.reject(error);
    this.#setState("closed");
    try {
      this.#socket?.close(1000);
    } catch {
      // already closed
    }
  }

  #onClose(code: number, reason: string): void {
    this.#stopWatchdog();
    const wasOpen = this.#hello !== undefined;
    this.#hello = undefined;
    this.#failPending(
      new GatewayClientError(
        "DISCONNECTED",
        `the connection to the gateway closed (${code}${reason ? `: ${reason}` : ""})`,
        {
          retryable: true,
        },
      ),
    );
    if (this.#closedByUser) return;
    // The certificate was refused (pin mismatch, untrusted): trying again cannot help.
    if (this.#tlsRefusal) {
      this.#fail(this.#tlsRefusal);
      return;
    }
    // Refused before the handshake (a browser Origin the gateway does not allow): the reason says why, and trying
    // again cannot help.
    const refusal = !wasOpen && code === 1008 ? /^([A-Z][A-Z_]+): (.+)$/.exec(reason) : null;
    if (refusal) {
      this.#fail(
        connectRefusal({
          code: "FORBIDDEN",
          message: `the gateway refused the connection: ${refusal[2]}`,
          details: { code: refusal[1] },
        }),
      );
      return;
    }
    if (!this.#reconnectEnabled()) {
      const error =
        wasOpen || this.#everOpened
          ? new GatewayClientError(
              "DISCONNECTED",
              `the gateway closed the connection (${code}${reason ? `: ${reason}` : ""})`,
            )
          : new GatewayClientError(
              "UNREACHABLE",
              `gateway not reachable at ${this.#options.url} — start it with \`gateway run\`${reason ? ` (${reason})` : ""}`,
            );
      this.#fail(error);
      return;
    }
    if (wasOpen) this.#whenOpen = deferred<HelloOk>();
    const reconnect = typeof this.#options.reconnect === "object" ? this.#options.reconnect : {};
    const base = Math.min(
      reconnect.maxDelayMs ?? 10_000,
      (reconnect.initialDelayMs ?? 250) * (reconnect.factor ?? 2) ** this.#attempt,
    );
    const jitter = reconnect.jitter ?? 0.3;
    const delay = this.#restartHintMs ?? Math.round(base * (1 - jitter + Math.random() * 2 * jitter));
    this.#restartHintMs = undefined;
    this.#attempt++;
    this.#setState("reconnecting");
    this.#reconnectTimer = setTimeout(() => this.#open(), delay);
  }

  #failPending(error: GatewayClientError): void {
    for (const [id, pending] of this.#pending) {
      this.#pending.delete(id);
      clearTimeout(pending.timer);
      pending.reject(error);
    }
  }

  #emit(event: string, payload: unknown): void {
    for (const handler of this.#listeners.get(event) ?? []) handler(payload, event);
    for (const handler of this.#listeners.get("*") ?? []) handler(payload, event);
  }

  #startWatchdog(tickIntervalMs: number): void {
    this.#stopWatchdog();
    this.#lastMessageAt = Date.now();
    this.#watchdog = setInterval(() => {
      if (Date.now() - this.#lastMessageAt > 2 * tickIntervalMs) {
        try {
          this.#socket?.close(4000, "tick timeout");
        } catch {
          // closing anyway
        }
      }
    }, tickIntervalMs);
    (this.#watchdog as { unref?: () => void }).unref?.();
  }

  #stopWatchdog(): void {
    if (this.#watchdog !== undefined) clearInterval(this.#watchdog);
    this.#watchdog = undefined;
  }
}

/** Connect to a gateway. The client connects at once; `await client.ready()` to wait for the handshake. */
export function createGatewayClient(options: GatewayClientOptions): GatewayClient {
  return new GatewayClient(options);
}
