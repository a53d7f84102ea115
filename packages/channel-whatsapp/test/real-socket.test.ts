// The real Baileys against local WebSocket servers that misbehave: one that closes at once, one that accepts and
// stays silent, one that answers with garbage, and crabline going away and coming back on the same port.
import { createHash } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { Socket } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { isFatal } from "@gateway/plugin-sdk";
import { createTestContext } from "@gateway/plugin-sdk/test-context";
import { afterEach, describe, expect, it } from "vitest";
import { whatsappChannel } from "../src/index.js";
import { seedLinkedCredentials } from "../src/testing.js";
import { accountStatus } from "./account-status.js";
import { startCrabline } from "./crabline-harness.js";

const cleanups: Array<() => Promise<unknown> | unknown> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

/** A WebSocket endpoint that completes the upgrade and then does `behave(socket)`. */
async function misbehavingServer(behave: (socket: Socket) => void): Promise<string> {
  const sockets = new Set<Socket>();
  const server: Server = createServer((_request, response) => response.writeHead(404).end());
  server.on("upgrade", (request, socket) => {
    sockets.add(socket as Socket);
    const accept = createHash("sha1")
      .update(`${request.headers["sec-websocket-key"]}258EAFA5-E914-47DA-95CA-C5AB0DC85B11`)
      .digest("base64");
    socket.write(
      `HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ${accept}\r\n\r\n`,
    );
    behave(socket as Socket);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  cleanups.push(
    () =>
      new Promise((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(resolve);
      }),
  );
  const { port } = server.address() as { port: number };
  return `ws://127.0.0.1:${port}/ws/chat`;
}

async function startAgainst(url: string, connectTimeoutMs = 1_000) {
  const root = mkdtempSync(join(tmpdir(), "wa-real-"));
  cleanups.push(() => rmSync(root, { recursive: true, force: true }));
  await seedLinkedCredentials(join(root, "c"), "15550000000@s.whatsapp.net");
  const config = { authDir: join(root, "c"), waWebSocketUrl: url, connectTimeoutMs };
  const test = createTestContext("whatsapp", "default", config);
  const account = whatsappChannel.createAccount("default", config);
  cleanups.push(
    () => test.dispose(),
    () => account.stop(),
  );
  const failure = await account.start(test.context).then(
    () => undefined,
    (error: unknown) => error as Error,
  );
  return { failure, status: accountStatus(test) };
}

describe("the real Baileys against a misbehaving server", () => {
  it("a server that closes the connection: 428, retryable", async () => {
    const url = await misbehavingServer((socket) => socket.end(Buffer.from([0x88, 0x02, 0x03, 0xe8])));
    const { failure, status } = await startAgainst(url);
    expect(failure).toBeDefined();
    expect(isFatal(failure)).toBe(false);
    expect(status.lastDisconnect).toMatchObject({ code: 428 });
    expect(status.fatal).toBe(false);
  });

  it("a server that stays silent: 408 after connectTimeoutMs, retryable", async () => {
    const url = await misbehavingServer(() => {});
    const started = Date.now();
    const { failure, status } = await startAgainst(url, 1_000);
    // Reported within a few seconds, not after the 30 s the WebSocket library waits for a close frame.
    expect(Date.now() - started).toBeGreaterThanOrEqual(900);
    expect(Date.now() - started).toBeLessThan(5_000);
    expect(isFatal(failure)).toBe(false);
    expect(status.lastDisconnect).toMatchObject({ code: 408 });
  });

  it("a garbage frame: an error without a status code, retryable", async () => {
    // A whole frame (3-byte length prefix, as the Noise transport frames them) holding no valid server hello.
    const body = Buffer.from("\xff\xfe not a noise server hello at all \x00\x01", "latin1");
    const garbage = Buffer.concat([Buffer.from([0, 0, body.length]), body]);
    const url = await misbehavingServer((socket) =>
      socket.write(Buffer.concat([Buffer.from([0x82, garbage.length]), garbage])),
    );
    const { failure, status } = await startAgainst(url);
    expect(isFatal(failure)).toBe(false);
    expect(status.fatal).toBe(false);
    expect(status.lastDisconnect).toMatchObject({ code: null });
    expect(String((status.lastDisconnect as { reason: string }).reason)).toMatch(/^no status code/);
  });

  it("crabline goes away and comes back on the same port: reconnects with backoff and receives again", async () => {
    const crabline = await startCrabline();
    cleanups.push(() => crabline.close());
    const test = createTestContext("whatsapp", "default", crabline.config);
    const account = whatsappChannel.createAccount("default", crabline.config);
    cleanups.push(
      () => test.dispose(),
      () => account.stop(),
    );
    await account.start(test.context);
    await crabline.goDown();
    const status = () => accountStatus(test);
    await test.until(() => status().connected === false && Number(status().reconnectAttempts) >= 1, 10_000);
    expect(status()).toMatchObject({ fatal: false, connectionState: "reconnecting" });
    await crabline.comeBack();
    await test.until(() => status().connected === true, 10_000);
    await crabline.inject({
      chatJid: "15551234567@s.whatsapp.net",
      senderJid: "15551234567@s.whatsapp.net",
      text: "back?",
    });
    await test.until(() => test.received.some((message) => message.text === "back?"), 10_000);
    expect(status()).toMatchObject({ connected: true, reconnectAttempts: 0, connectionState: "open" });
  }, 30_000);
});
