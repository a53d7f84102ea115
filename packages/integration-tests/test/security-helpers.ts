// Raw connections for the security suite: a hand-made `connect` (forged, replayed, expired) over a real WebSocket,
// with any headers, and what the gateway answered and how it closed.
import { createHash, generateKeyPairSync, type KeyObject, sign } from "node:crypto";
import { PROTOCOL_VERSION } from "@gateway/protocol";
import WebSocket from "ws";

/** An Ed25519 device the test controls. */
export interface TestDevice {
  id: string;
  publicKey: string;
  privateKey: KeyObject;
}

export function newDevice(): TestDevice {
  const { publicKey, privateKey } = generateKeyPairSync("ed25519");
  const raw = publicKey.export({ type: "spki", format: "der" }).subarray(12);
  return { id: createHash("sha256").update(raw).digest("hex"), publicKey: raw.toString("base64url"), privateKey };
}

/** What to sign: the connect's fields as the v3 payload binds them. */
export interface Signed {
  clientId: string;
  clientMode: string;
  role: string;
  scopes: string[];
  token?: string;
  nonce: string;
  signedAt?: number;
  platform?: string;
}

/** The `device` block, signed over the v3 payload. */
export function deviceBlock(device: TestDevice, fields: Signed) {
  const signedAt = fields.signedAt ?? Date.now();
  const payload = [
    "v3",
    device.id,
    fields.clientId,
    fields.clientMode,
    fields.role,
    fields.scopes.join(","),
    String(signedAt),
    fields.token ?? "",
    fields.nonce,
    (fields.platform ?? "linux").toLowerCase(),
    "",
  ].join("|");
  return {
    id: device.id,
    publicKey: device.publicKey,
    signature: sign(null, Buffer.from(payload), device.privateKey).toString("base64url"),
    signedAt,
    nonce: fields.nonce,
  };
}

/** The outcome of one handshake attempt. */
export interface Attempt {
  /** The connect response (undefined when the socket was refused or closed before answering). */
  response:
    | { ok: boolean; payload?: any; error?: { code: string; message: string; details?: any; retryAfterMs?: number } }
    | undefined;
  /** HTTP status when the upgrade itself was refused. */
  httpStatus: number | undefined;
  close: Promise<{ code: number; reason: string }>;
  socket: WebSocket | undefined;
}

/**
 * Open a WebSocket with `headers`, wait for the challenge, send the connect `build(nonce)` returns, and report the
 * answer. The socket stays open on success (close it through `socket`).
 */
export function attempt(
  url: string,
  build: (nonce: string) => Record<string, unknown>,
  headers: Record<string, string> = {},
): Promise<Attempt> {
  return new Promise((resolve) => {
    const socket = new WebSocket(url, { headers });
    let closed!: (value: { code: number; reason: string }) => void;
    const close = new Promise<{ code: number; reason: string }>((done) => {
      closed = done;
    });
    let answered = false;
    socket.on("close", (code, reason) => {
      closed({ code, reason: reason.toString() });
      if (!answered) {
        answered = true;
        resolve({ response: undefined, httpStatus: undefined, close, socket });
      }
    });
    socket.on("unexpected-response", (_request, response) => {
      answered = true;
      closed({ code: 0, reason: `HTTP ${response.statusCode}` });
      resolve({ response: undefined, httpStatus: response.statusCode, close, socket: undefined });
      socket.terminate();
    });
    socket.on("error", () => {});
    socket.on("message", (data) => {
      const frame = JSON.parse(String(data));
      if (frame.type === "event" && frame.event === "connect.challenge") {
        socket.send(JSON.stringify({ type: "req", id: "c1", method: "connect", params: build(frame.payload.nonce) }));
      } else if (frame.type === "res" && frame.id === "c1" && !answered) {
        answered = true;
        resolve({ response: frame, httpStatus: undefined, close, socket });
      }
    });
  });
}

/** Connect params for an operator; override any field. */
export function operatorParams(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    minProtocol: PROTOCOL_VERSION,
    maxProtocol: PROTOCOL_VERSION,
    client: { id: "security-test", version: "1.0.0", platform: "linux", mode: "test" },
    role: "operator",
    ...overrides,
  };
}

/** Send one request on an open socket and wait for its answer. */
export function call(socket: WebSocket, method: string, params: unknown = {}): Promise<any> {
  const id = `r-${Math.random().toString(36).slice(2)}`;
  return new Promise((resolve) => {
    const onMessage = (data: WebSocket.RawData) => {
      const frame = JSON.parse(String(data));
      if (frame.type === "res" && frame.id === id) {
        socket.off("message", onMessage);
        resolve(frame);
      }
    };
    socket.on("message", onMessage);
    socket.send(JSON.stringify({ type: "req", id, method, params }));
  });
}
