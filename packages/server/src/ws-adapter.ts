// The two places the gateway reaches into `ws` and @fastify/websocket internals, behind one adapter. Both keep an
// idle connection small and the pre-handshake frame limit tight; ws-adapter.test.ts fails if `ws` changes under them.
import type { IncomingMessage, ServerResponse } from "node:http";
import type { Socket } from "node:net";
import type { WebSocket } from "ws";

/**
 * Take over a socket @fastify/websocket just upgraded: drop its error listener (it closes over fastify's request and
 * reply, several KB per idle connection) and detach the upgrade's HTTP response from the TCP socket (through its
 * listeners it keeps fastify's request, reply and child logger alive). Returns the TCP socket.
 */
export function adoptUpgradedSocket(socket: WebSocket, request: IncomingMessage): Socket {
  socket.removeAllListeners("error");
  const transport = request.socket as Socket & { _httpMessage?: ServerResponse | null };
  transport._httpMessage?.detachSocket(transport);
  return transport;
}

/**
 * `ws` keeps the payload limit on the socket's receiver and offers no API to change it after the upgrade: lower it
 * before the handshake so no one can make the gateway buffer a large frame, raise it once the client is known.
 * Returns whether the limit could be set (false: `ws` changed; the server's own size check still applies).
 */
export function setReceiverLimit(socket: WebSocket, maxPayload: number): boolean {
  const receiver = (socket as unknown as { _receiver?: { _maxPayload?: number } })._receiver;
  if (!receiver || typeof receiver._maxPayload !== "number") return false;
  receiver._maxPayload = maxPayload;
  return true;
}
