// A crabline WhatsApp server on 127.0.0.1 (port 0) with credentials linked to it, for tests with the real Baileys.
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startWhatsAppServer, type WhatsAppServerManifest } from "@openclaw/crabline";
import { acceptedSends, type InjectedMessage, injectMessage, seedLinkedCredentials } from "../src/testing.js";

/** A running server, a directory with credentials linked to it, and what it recorded. */
export interface Crabline {
  manifest: WhatsAppServerManifest;
  root: string;
  authDir: string;
  config: { authDir: string; waWebSocketUrl: string; reconnect: { baseMs: number; maxMs: number } };
  inject(message: InjectedMessage): Promise<string>;
  /** Sends the server accepted (decrypted where it can), in order. */
  accepted(): ReturnType<typeof acceptedSends>;
  /** Every WebSocket node the client sent (tags), in order. */
  nodes(): Array<{ tag: string; attrs: Record<string, string> }>;
  goDown(): Promise<void>;
  comeBack(): Promise<void>;
  close(): Promise<void>;
}

export async function startCrabline(): Promise<Crabline> {
  const root = mkdtempSync(join(tmpdir(), "wa-crabline-"));
  const recorderPath = join(root, "recorder.jsonl");
  let server = await startWhatsAppServer({ recorderPath });
  const { manifest } = server;
  const port = Number(new URL(manifest.baseUrl).port);
  const authDir = join(root, "credentials");
  await seedLinkedCredentials(authDir, manifest.selfJid);
  const read = () => {
    try {
      return readFileSync(recorderPath, "utf8");
    } catch {
      return "";
    }
  };
  let down = false;
  return {
    manifest,
    root,
    authDir,
    config: { authDir, waWebSocketUrl: manifest.endpoints.baileysWebSocketUrl, reconnect: { baseMs: 100, maxMs: 500 } },
    inject: (message) => injectMessage(manifest, message),
    accepted: () => acceptedSends(read()),
    nodes: () =>
      read()
        .split("\n")
        .filter((line) => line.includes('"method":"WEBSOCKET"') && !line.includes('"accepted":true'))
        .map((line) => JSON.parse(line).body as { tag: string; attrs: Record<string, string> }),
    async goDown() {
      if (down) return;
      down = true;
      await server.close();
    },
    async comeBack() {
      if (!down) return;
      server = await startWhatsAppServer({
        recorderPath,
        port,
        accessToken: manifest.accessToken,
        adminToken: manifest.adminToken,
        selfJid: manifest.selfJid,
      });
      down = false;
    },
    async close() {
      if (!down) await server.close();
      down = true;
      rmSync(root, { recursive: true, force: true });
    },
  };
}
