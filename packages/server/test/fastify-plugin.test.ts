// The server mounted in someone else's fastify app (the trpc shape): the host app owns the listener; the gateway's
// WebSocket endpoint and routes live under the prefix it was registered with, its services start when the host
// listens and stop when the host closes.
import Fastify from "fastify";
import { describe, expect, it } from "vitest";
import { createGatewayPlugin } from "../src/index.js";
import { connect, TOKEN } from "./helpers.js";

describe("createGatewayPlugin", () => {
  it("serves the protocol under a prefix of a host app, beside the host's own routes, and stops with it", async () => {
    const app = Fastify();
    app.get("/api/hello", async () => ({ hello: "from the host app" }));
    const lifecycle: string[] = [];
    const gateway = createGatewayPlugin({
      auth: { mode: "token", token: TOKEN },
      logging: { level: "silent", stdout: false },
    });
    gateway.server.registerHttpRoute({
      method: "GET",
      url: "/ping",
      handler: (_request, response) => void response.writeHead(200).end("pong"),
    });
    gateway.server.registerService({
      name: "probe",
      start: () => void lifecycle.push("started"),
      stop: () => void lifecycle.push("stopped"),
    });
    await app.register(gateway.plugin, { prefix: "/gateway" });
    await app.listen({ host: "127.0.0.1", port: 0 });
    const port = (app.server.address() as { port: number }).port;
    try {
      expect(lifecycle).toEqual(["started"]);
      expect(await (await fetch(`http://127.0.0.1:${port}/api/hello`)).json()).toEqual({ hello: "from the host app" });
      const ping = await fetch(`http://127.0.0.1:${port}/gateway/ping`, {
        headers: { authorization: `Bearer ${TOKEN}` },
      });
      expect(await ping.text()).toBe("pong");
      const { client, hello } = await connect(`ws://127.0.0.1:${port}/gateway`);
      expect(hello.type).toBe("hello-ok");
      expect(gateway.server.connectionCount).toBe(1);
      const closed = client.closed;
      await app.close();
      expect((await closed).code).toBe(1012);
      expect(lifecycle).toEqual(["started", "stopped"]);
    } finally {
      await app.close();
    }
  });
});
