// The platform fake for the example: the Relay protocol on 127.0.0.1, with an outage on demand.
import { createServer, type ServerResponse } from "node:http";
import type { Socket } from "node:net";

export async function startFakeRelay(token: string) {
  const updates: Array<{ id: number; chat: string; from: { id: string; name: string }; text: string; ts: number }> = [];
  const sent: Array<{ peer: string; text: string }> = [];
  const waiting = new Set<() => void>();
  const sockets = new Set<Socket>();
  let nextId = 1;
  const json = (response: ServerResponse, status: number, body: unknown) =>
    response.writeHead(status, { "content-type": "application/json" }).end(JSON.stringify(body));
  const server = createServer(async (request, response) => {
    if (request.headers.authorization !== `Bearer ${token}`) return json(response, 401, { error: "bad token" });
    const url = new URL(request.url ?? "/", "http://relay");
    if (request.method === "GET" && url.pathname === "/v1/updates") {
      const after = Number(url.searchParams.get("after") ?? 0);
      const pending = () => updates.filter((update) => update.id > after);
      if (pending().length === 0 && Number(url.searchParams.get("wait")) > 0) {
        await new Promise<void>((resolve) => {
          const timer = setTimeout(done, Number(url.searchParams.get("wait")) * 1000);
          function done() {
            clearTimeout(timer);
            waiting.delete(done);
            resolve();
          }
          waiting.add(done);
          request.on("close", done);
        });
      }
      if (!response.destroyed) json(response, 200, { updates: pending() });
      return;
    }
    if (request.method === "POST" && url.pathname === "/v1/messages") {
      let raw = "";
      for await (const chunk of request) raw += chunk;
      const { chat, text } = JSON.parse(raw) as { chat: string; text: string };
      sent.push({ peer: chat, text });
      return json(response, 200, { id: nextId++ });
    }
    json(response, 404, { error: "not found" });
  });
  server.on("connection", (socket) => {
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as { port: number };
  const down = () =>
    new Promise<void>((resolve) => {
      for (const socket of sockets) socket.destroy();
      server.close(() => resolve());
    });
  return {
    url: `http://127.0.0.1:${port}`,
    sent,
    inject(chat: string, from: { id: string; name: string }, text: string) {
      updates.push({ id: nextId++, chat, from, text, ts: Date.now() });
      for (const wake of [...waiting]) wake();
    },
    goDown: down,
    comeBack: () => new Promise<void>((resolve) => server.listen(port, "127.0.0.1", () => resolve())),
    close: down,
  };
}
