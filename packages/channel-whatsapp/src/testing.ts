// @gateway/channel-whatsapp/testing — helpers for tests against a local WhatsApp server (such as crabline's): linked
// credentials written the way the plugin stores them, and injecting a message.
import { initAuthCreds } from "@whiskeysockets/baileys";
import { AuthStore } from "./auth-store.js";

/**
 * Write credentials that count as linked to `selfJid` into `authDir` (the account's `credentials` directory), as a
 * login would: fresh keys, `me` set, committed. A local server that accepts any registered client connects them.
 */
export async function seedLinkedCredentials(authDir: string, selfJid: string): Promise<void> {
  const creds = initAuthCreds() as unknown as Record<string, unknown>;
  creds.registered = true;
  creds.me = { id: selfJid };
  const store = await AuthStore.createStaged(authDir, creds);
  await store.commit();
  await store.close();
}

/** What a crabline WhatsApp server's manifest says about injecting (the fields used here). */
export interface InboundEndpoint {
  adminToken: string;
  endpoints: { adminInboundUrl: string };
}

/** A user message for the server to deliver to the connected client. */
export interface InjectedMessage {
  /** The chat: the sender's JID for a DM, a group `…@g.us`. */
  chatJid: string;
  senderJid: string;
  text?: string;
  audio?: { contentBase64: string; mimeType: string; ptt?: boolean };
  pushName?: string;
  messageId?: string;
}

/** Deliver a message through the local server's admin endpoint; resolves with the message id. */
export async function injectMessage(server: InboundEndpoint, message: InjectedMessage): Promise<string> {
  const response = await fetch(server.endpoints.adminInboundUrl, {
    method: "POST",
    headers: { "content-type": "application/json", "x-crabline-admin-token": server.adminToken },
    body: JSON.stringify(message),
  });
  const body = (await response.json()) as { ok?: boolean; message?: { key?: { id?: string } }; error?: unknown };
  if (!response.ok || !body.message?.key?.id)
    throw new Error(`injecting a WhatsApp message failed (${response.status}): ${JSON.stringify(body)}`);
  return body.message.key.id;
}

/** One line of the server's recorder that is an accepted send from the client. */
export interface AcceptedSend {
  peer: string;
  id: string;
  /** The decrypted text when the message was a plain `conversation`. */
  text: string | undefined;
}

/** The sends the server accepted (decrypted), from its JSONL recorder's text. */
export function acceptedSends(recorderText: string): AcceptedSend[] {
  const sends: AcceptedSend[] = [];
  for (const line of recorderText.split("\n")) {
    if (!line.includes('"accepted":true')) continue;
    const record = JSON.parse(line) as {
      body?: {
        key?: { remoteJid?: string; id?: string };
        message?: { conversation?: string };
        attrs?: { to?: string; id?: string };
      };
    };
    const peer = record.body?.key?.remoteJid ?? record.body?.attrs?.to;
    const id = record.body?.key?.id ?? record.body?.attrs?.id;
    if (peer && id) sends.push({ peer, id, text: record.body?.message?.conversation });
  }
  return sends;
}
