// Pins the `ws` internals the adapter relies on: if a `ws` upgrade renames them, this fails before users notice a
// larger memory footprint or a looser pre-handshake frame limit.
import { createServer, type IncomingMessage } from "node:http";
import type { AddressInfo } from "node:net";
import { describe, expect, it } from "vitest";
import { WebSocket, WebSocketServer } from "ws";
import { adoptUpgradedSocket, setReceiverLimit } from "./ws-adapter.js";

async function serverSocket(): Promise<{
  socket: WebSocket;
  request: IncomingMessage;
  client: WebSocket;
  close(): Promise<void>;
}> {
  const http = createServer();
  const wss = new WebSocketServer({ server: http, maxPayload: 1 << 20 });
  await new Promise<void>((resolve) => http.listen(0, "127.0.0.1", resolve));
  const accepted = new Promise<{ socket: WebSocket; request: IncomingMessage }>((resolve) =>
    wss.once("connection", (socket, request) => resolve({ socket, request })),
  );
  const client = new WebSocket(`ws://127.0.0.1:${(http.address() as AddressInfo).port}`);
  client.on("error", () => {});
  const opened = new Promise<void>((resolve) => client.once("open", () => resolve()));
  const { socket, request } = await accepted;
  await opened;
  return {
    socket,
    request,
    client,
    close: async () => {
      client.terminate();
      wss.close();
      await new Promise<void>((resolve) => http.close(() => resolve()));
    },
  };
}

describe("the ws adapter", () => {
  it("lowers the receiver's payload limit: a larger frame closes the socket with 1009", async () => {
    const { socket, client, close } = await serverSocket();
    try {
      expect(setReceiverLimit(socket, 64)).toBe(true);
      const closed = new Promise<number>((resolve) => client.once("close", (code) => resolve(code)));
      socket.on("error", () => {});
      client.send("x".repeat(64));
      client.send("x".repeat(100));
      expect(await closed).toBe(1009);
    } finally {
      await close();
    }
  });

  it("adopting leaves the socket without foreign error listeners and returns its TCP socket", async () => {
    const { socket, request, close } = await serverSocket();
    try {
      socket.on("error", () => {});
      const transport = adoptUpgradedSocket(socket, request);
      expect(socket.listenerCount("error")).toBe(0);
      expect(transport).toBe(request.socket);
    } finally {
      await close();
    }
  });
});
