// Test helpers: a gateway on port 0 with a temp state dir, and a raw WebSocket client that speaks the protocol.
import { mkdtempSync, rmSync } from "node:fs";
import { request as httpRequest } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { PROTOCOL_VERSION } from "@gateway/protocol";
import { WebSocket } from "ws";
import { createGatewayServer, type GatewayServer, type GatewayServerOptions } from "../src/index.js";

export const TOKEN = "test-token-0123456789abcdef";

/** A started gateway and how to reach it; `stop()` closes it and removes its state dir. */
export interface TestGateway {
  server: GatewayServer;
  url: string;
  port: number;
  stateDir: string;
  stop(): Promise<void>;
}

export async function startGateway(options: GatewayServerOptions = {}): Promise<TestGateway> {
  const stateDir = mkdtempSync(join(tmpdir(), "gateway-server-test-"));
  const server = createGatewayServer({
    port: 0,
    auth: { mode: "token", token: TOKEN },
    stateDir,
    version: "9.9.9-test",
    logging: { level: "info", stdout: false },
    ...options,
  });
  const address = await server.listen();
  return {
    server,
    url: address.url,
    port: address.port,
    stateDir,
    async stop() {
      await server.close();
      rmSync(stateDir, { recursive: true, force: true });
    },
  };
}

export interface Frame {
  type: string;
  id?: string;
  ok?: boolean;
  payload?: any;
  error?: { code: string; message: string; details?: any; retryable?: boolean; retryAfterMs?: number };
  event?: string;
  seq?: number;
  stateVersion?: { presence: number; health: number };
}

/** A protocol client over a raw `ws` socket, recording every frame it receives. */
export class TestClient {
  readonly frames: Frame[] = [];
  readonly closed: Promise<{ code: number; reason: string }>;
  #nextId = 0;
  #waiters: Array<{ match: (frame: Frame) => boolean; resolve: (frame: Frame) => void }> = [];

  constructor(readonly socket: WebSocket) {
    socket.on("message", (data) => {
      const frame = JSON.parse(data.toString()) as Frame;
      this.frames.push(frame);
      this.#waiters = this.#waiters.filter((waiter) => {
        if (!waiter.match(frame)) return true;
        waiter.resolve(frame);
        return false;
      });
    });
    this.closed = new Promise((resolve) => {
      socket.on("close", (code, reason) => resolve({ code, reason: reason.toString() }));
    });
    socket.on("error", () => {});
  }

  static open(
    url: string,
    headers: Record<string, string> = {},
    options: { rejectUnauthorized?: boolean } = {},
  ): Promise<TestClient> {
    const socket = new WebSocket(url, { headers, ...options });
    const client = new TestClient(socket);
    return new Promise((resolve, reject) => {
      socket.once("open", () => resolve(client));
      socket.once("error", reject);
    });
  }

  /** The next frame matching `match` (including one already received and not yet consumed by a wait). */
  waitFor(match: (frame: Frame) => boolean, timeoutMs = 5_000): Promise<Frame> {
    const existing = this.frames.find(match);
    if (existing) return Promise.resolve(existing);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error("timed out waiting for a frame")), timeoutMs);
      this.#waiters.push({
        match,
        resolve: (frame) => {
          clearTimeout(timer);
          resolve(frame);
        },
      });
    });
  }

  waitForEvent(event: string, after = 0): Promise<Frame> {
    return this.waitFor(
      (frame) => frame.type === "event" && frame.event === event && (after === 0 || (frame.seq ?? 0) > after),
    );
  }

  sendRaw(data: string | Buffer): void {
    this.socket.send(data);
  }

  /** Send a request and resolve with its (first) response. */
  request(method: string, params?: unknown): Promise<Frame> {
    const id = `r${++this.#nextId}`;
    const response = this.waitFor((frame) => frame.type === "res" && frame.id === id);
    this.socket.send(
      JSON.stringify(params === undefined ? { type: "req", id, method } : { type: "req", id, method, params }),
    );
    return response;
  }

  /** All responses to one request id (two-phase methods answer twice). */
  responses(id: string): Frame[] {
    return this.frames.filter((frame) => frame.type === "res" && frame.id === id);
  }

  close(): void {
    this.socket.close();
  }
}

/** Connect params with the test token; override any field. */
export function connectParams(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    minProtocol: PROTOCOL_VERSION,
    maxProtocol: PROTOCOL_VERSION,
    client: { id: "test", version: "1.0.0", platform: "linux", mode: "test" },
    auth: { token: TOKEN },
    // An omitted list grants nothing: tests ask for everything unless they say otherwise.
    scopes: ["operator.read", "operator.write", "operator.admin", "operator.approvals", "operator.pairing"],
    ...overrides,
  };
}

/** Open a socket and complete the handshake; fails the test when the gateway refuses. */
export async function connect(
  url: string,
  overrides: Record<string, unknown> = {},
  headers: Record<string, string> = {},
): Promise<{ client: TestClient; hello: any }> {
  const client = await TestClient.open(url, headers);
  await client.waitForEvent("connect.challenge");
  const response = await client.request("connect", connectParams(overrides));
  if (!response.ok) throw new Error(`connect refused: ${JSON.stringify(response.error)}`);
  return { client, hello: response.payload };
}

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** A plain HTTP GET with headers `fetch` may not set (`Host`). */
export function httpGet(
  port: number,
  path: string,
  headers: Record<string, string>,
): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const request = httpRequest({ host: "127.0.0.1", port, path, headers }, (response) => {
      let body = "";
      response.setEncoding("utf8");
      response.on("data", (chunk: string) => {
        body += chunk;
      });
      response.on("end", () => resolve({ status: response.statusCode ?? 0, body }));
    });
    request.on("error", reject);
    request.end();
  });
}
