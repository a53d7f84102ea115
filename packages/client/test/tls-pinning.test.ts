// `tlsFingerprint` against a real wss:// gateway serving a generated self-signed certificate: pinned, it connects;
// a wrong pin is refused before anything is sent (naming both fingerprints); unpinned, the self-signed certificate is
// refused with the hint to pin it.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createServer, type Server } from "node:tls";
import { afterEach, describe, expect, it } from "vitest";
import { createGatewayServer, ensureGeneratedCertificate } from "../../server/src/index.js";
import { createGatewayClient, type GatewayClient, GatewayClientError } from "../src/index.js";

const TOKEN = "client-tls-token-0123456789";
const cleanups: Array<() => unknown> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

function certificate() {
  const dir = mkdtempSync(join(tmpdir(), "client-tls-"));
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  return ensureGeneratedCertificate(dir);
}

async function tlsGateway() {
  const pair = certificate();
  const server = createGatewayServer({
    port: 0,
    auth: { mode: "token", token: TOKEN },
    logging: { level: "silent", stdout: false, file: false },
    tls: { cert: pair.cert, key: pair.key },
  });
  const address = await server.listen();
  cleanups.push(() => server.close());
  return { url: address.url, fingerprint: address.tlsFingerprint! };
}

function open(url: string, options: Partial<Parameters<typeof createGatewayClient>[0]> = {}): GatewayClient {
  const client = createGatewayClient({ url, token: TOKEN, reconnect: false, scopes: ["operator.read"], ...options });
  cleanups.push(() => client.close());
  return client;
}

const refusal = (client: GatewayClient) =>
  client.ready().then(
    () => undefined,
    (error: unknown) => error,
  );
const OTHER = "AB:".repeat(31).concat("AB");

describe("tlsFingerprint", () => {
  it("connects to a self-signed gateway whose certificate has the pinned fingerprint", async () => {
    const gateway = await tlsGateway();
    expect(gateway.url).toMatch(/^wss:/);
    // Any spelling of the same fingerprint: lowercase, no colons.
    const client = open(gateway.url, { tlsFingerprint: gateway.fingerprint.replace(/:/g, "").toLowerCase() });
    await client.ready();
    const status = await client.request("status");
    expect(status.tls?.fingerprintSha256).toBe(gateway.fingerprint);
  });

  it("refuses a wrong pin, naming both fingerprints", async () => {
    const gateway = await tlsGateway();
    const error = await refusal(open(gateway.url, { tlsFingerprint: OTHER }));
    expect(GatewayClientError.isInstance(error)).toBe(true);
    expect(error).toMatchObject({
      code: "TLS_FINGERPRINT_MISMATCH",
      details: { expected: OTHER, served: gateway.fingerprint },
    });
    expect((error as Error).message).toContain(gateway.fingerprint);
    expect((error as Error).message).toContain(OTHER);
  });

  it("sends nothing over a connection whose certificate does not match the pin", async () => {
    const pair = certificate();
    let received = 0;
    let connections = 0;
    const server: Server = createServer({ cert: pair.cert, key: pair.key }, (socket) => {
      socket.on("data", (chunk) => {
        received += chunk.length;
      });
      socket.on("error", () => {});
    });
    server.on("connection", () => {
      connections++;
    });
    server.on("tlsClientError", () => {});
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    cleanups.push(() => new Promise((resolve) => server.close(resolve)));
    const { port } = server.address() as { port: number };
    const error = await refusal(open(`wss://127.0.0.1:${port}`, { tlsFingerprint: OTHER }));
    expect(error).toMatchObject({ code: "TLS_FINGERPRINT_MISMATCH" });
    expect(connections).toBe(1); // the client reached it and saw its certificate in the TLS handshake…
    await new Promise((resolve) => setTimeout(resolve, 50)); // let any stray bytes arrive
    expect(received).toBe(0); // …and not one byte of the upgrade request (or the token) followed it
  });

  it("refuses an unpinned self-signed certificate, with the fingerprint to pin", async () => {
    const gateway = await tlsGateway();
    const error = await refusal(open(gateway.url));
    expect(error).toMatchObject({ code: "TLS_CERTIFICATE_UNTRUSTED" });
    expect((error as Error).message).toMatch(/self.signed|DEPTH_ZERO/i);
    expect((error as Error).message).toContain(`--tls-fingerprint ${gateway.fingerprint}`);
  });

  it("refuses a malformed pin at once", () => {
    expect(() => open("wss://127.0.0.1:1", { tlsFingerprint: "not-a-fingerprint" })).toThrow(/64 hex digits/);
  });
});
