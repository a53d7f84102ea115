// Same-run baseline: a bare `ws` server that echoes every frame, and broadcasts on request. Prints "READY <port>".
import { WebSocketServer } from "ws";

const server = new WebSocketServer({ host: "127.0.0.1", port: 0, perMessageDeflate: false });
server.on("connection", (socket) => {
  socket.on("message", (data) => {
    const text = data.toString();
    if (text === "gc") {
      globalThis.gc?.();
      socket.send(JSON.stringify({ type: "res", id: "gc", ok: true }));
      return;
    }
    if (text.startsWith("broadcast ")) {
      const [, count, bytes] = text.split(" ");
      const frame = JSON.stringify({
        type: "event",
        event: "heartbeat",
        payload: { preview: "x".repeat(Number(bytes)) },
        seq: 1,
      });
      for (let index = 0; index < Number(count); index++) for (const client of server.clients) client.send(frame);
      return;
    }
    socket.send(text);
  });
});
server.on("listening", () => process.stdout.write(`READY ${server.address().port}\n`));
process.on("SIGTERM", () => server.close(() => process.exit(0)));
