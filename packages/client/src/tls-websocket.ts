// wss:// in Node with the certificate checked by us, on the TLS socket, before anything is sent: a pinned SHA-256
// fingerprint (`tlsFingerprint`) is the only thing that lets a self-signed certificate through; without a pin the
// usual CA + hostname check applies, and a refusal names the certificate's fingerprint so the user can pin it.
// Node's modules are reached through process.getBuiltinModule (no import statement), so browser bundles of the
// client stay free of them; this path is never taken in a browser.
import type * as Http from "node:http";
import type * as NodeModule from "node:module";
import type * as Tls from "node:tls";
import type * as Ws from "ws";
import { GatewayClientError } from "./errors.js";
import type { WebSocketConstructor } from "./gateway-client.js";

type BuiltinLoader = (id: string) => unknown;

/** Uppercase colon-separated hex, whatever separators/case the user typed (`ab:cd…`, `ABCD…`). */
export function normalizeFingerprint(value: string): string {
  const hex = value
    .replace(/^sha256[:/=]?/i, "")
    .replace(/[^0-9a-f]/gi, "")
    .toUpperCase();
  if (hex.length !== 64)
    throw new GatewayClientError(
      "INVALID_REQUEST",
      `tlsFingerprint must be a SHA-256 fingerprint (64 hex digits, e.g. AB:CD:…), got "${value}"`,
    );
  return hex.match(/../g)!.join(":");
}

/** Whether this runtime can check TLS itself (Node ≥ 22.3). */
export function canCheckTls(): boolean {
  return typeof (globalThis as { process?: { getBuiltinModule?: unknown } }).process?.getBuiltinModule === "function";
}

/**
 * A WebSocket constructor for wss:// whose TLS socket is checked before the upgrade request is written. A refusal
 * goes to `onRefused` (the socket only reports a generic network error) as a GatewayClientError:
 * `TLS_FINGERPRINT_MISMATCH` (naming both fingerprints) or `TLS_CERTIFICATE_UNTRUSTED` (with the hint to pin).
 */
export function tlsCheckedWebSocket(
  pin: string | undefined,
  onRefused: (error: GatewayClientError) => void,
): WebSocketConstructor {
  const load = (globalThis as { process?: { getBuiltinModule?: BuiltinLoader } }).process?.getBuiltinModule;
  if (!load) throw new Error("tlsFingerprint works in Node only (≥ 22.3): a browser checks certificates itself");
  const tls = load("node:tls") as typeof Tls;
  const { createRequire } = load("node:module") as typeof NodeModule;
  const { WebSocket } = createRequire(import.meta.url)("ws") as typeof Ws;
  const expected = pin === undefined ? undefined : normalizeFingerprint(pin);

  const createConnection = (
    options: Http.ClientRequestArgs & Tls.ConnectionOptions,
    callback: (error: Error | null, socket?: Tls.TLSSocket) => void,
  ): undefined => {
    const socket = tls.connect({ ...options, rejectUnauthorized: false });
    const refuse = (error: GatewayClientError) => {
      socket.destroy();
      onRefused(error);
      callback(error);
    };
    socket.once("error", (error) => callback(error));
    socket.once("secureConnect", () => {
      const served = socket.getPeerX509Certificate()?.fingerprint256 ?? "none";
      const where = `${options.host ?? options.hostname}:${options.port}`;
      if (expected !== undefined) {
        if (served === expected) callback(null, socket);
        else
          refuse(
            new GatewayClientError(
              "TLS_FINGERPRINT_MISMATCH",
              `the certificate of ${where} has SHA-256 fingerprint ${served}, not the pinned ${expected}: nothing was sent. If the gateway's certificate was replaced on purpose, pin the new one (\`gateway status\` on its machine shows it)`,
              { details: { code: "TLS_FINGERPRINT_MISMATCH", expected, served } },
            ),
          );
        return;
      }
      if (socket.authorized) {
        callback(null, socket);
        return;
      }
      const reason = String(socket.authorizationError ?? "not trusted");
      refuse(
        new GatewayClientError(
          "TLS_CERTIFICATE_UNTRUSTED",
          `the certificate of ${where} is not trusted (${reason}); if it is the gateway's own self-signed certificate, pin it: tlsFingerprint / --tls-fingerprint ${served} (check it against \`gateway status\` on the gateway's machine first)`,
          { details: { code: "TLS_CERTIFICATE_UNTRUSTED", reason, served } },
        ),
      );
    });
    return undefined;
  };

  return class TlsCheckedWebSocket extends WebSocket {
    constructor(url: string) {
      super(url, { createConnection } as unknown as Ws.ClientOptions);
    }
  } as unknown as WebSocketConstructor;
}
