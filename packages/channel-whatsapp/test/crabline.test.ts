// The real Baileys against crabline's local WhatsApp server: linked credentials, inbound DMs (by phone and by LID),
// groups, audio saved under the cap, replies as accepted encrypted sends, typing and receipts, keys persisted.
import { readFileSync } from "node:fs";
import { createTestContext } from "@gateway/plugin-sdk/test-context";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { AuthStore } from "../src/auth-store.js";
import { whatsappChannel } from "../src/index.js";
import { accountStatus } from "./account-status.js";
import { type Crabline, startCrabline } from "./crabline-harness.js";

let crabline: Crabline;
beforeAll(async () => {
  crabline = await startCrabline();
});
afterAll(() => crabline?.close());

async function withAccount(
  config: Record<string, unknown>,
  body: (
    account: ReturnType<typeof whatsappChannel.createAccount>,
    test: ReturnType<typeof createTestContext>,
  ) => Promise<void>,
) {
  const merged = { ...crabline.config, ...config };
  const test = createTestContext("whatsapp", "default", merged);
  const account = whatsappChannel.createAccount("default", merged);
  try {
    await account.start(test.context);
    await body(account, test);
  } finally {
    await account.stop();
    test.dispose();
  }
}

describe("WhatsApp on the real Baileys, against crabline", () => {
  it("connects with stored credentials and reports the linked number, LID and connection state", async () => {
    await withAccount({}, async (_account, test) => {
      expect(accountStatus(test)).toMatchObject({
        running: true,
        connected: true,
        fatal: false,
        connectionState: "open",
        linkedNumber: `+${crabline.manifest.selfJid.split("@")[0]}`,
        lid: `${crabline.manifest.selfJid.split("@")[0]}@lid`,
      });
    });
  });

  it("a DM by phone number: sender keyed by number with its aliases; the reply is an accepted send", async () => {
    await withAccount({}, async (account, test) => {
      const id = await crabline.inject({
        chatJid: "15551234567@s.whatsapp.net",
        senderJid: "15551234567@s.whatsapp.net",
        text: "hello from a phone",
        pushName: "Ada",
      });
      await test.until(() => test.received.length === 1);
      expect(test.received[0]).toMatchObject({
        chatType: "direct",
        peer: "15551234567",
        sender: { id: "15551234567", name: "Ada", aliases: ["+15551234567", "15551234567@s.whatsapp.net"] },
        text: "hello from a phone",
        wasMentioned: false,
        messageId: id,
      });
      const before = crabline.accepted().length;
      const sent = await account.sendText({ peer: "15551234567", text: "**hi** Ada", replyToMessageId: id });
      await test.until(() => crabline.accepted().length > before);
      const accepted = crabline.accepted().at(-1)!;
      expect(accepted.id).toBe(sent.messageId);
      // The number resolved to its LID before sending (WhatsApp drops some sends to bare numbers).
      expect(accepted.peer).toBe("15551234567@lid");
      expect(accepted.text).toBe("*hi* Ada");
    });
  });

  it("a DM by LID: keyed by the LID; a reply goes back to it", async () => {
    await withAccount({}, async (account, test) => {
      await crabline.inject({
        chatJid: "987654321012@lid",
        senderJid: "987654321012@lid",
        text: "by lid",
        pushName: "Lin",
      });
      await test.until(() => test.received.length === 1);
      expect(test.received[0]).toMatchObject({
        peer: "987654321012@lid",
        sender: { id: "987654321012@lid", aliases: [] },
      });
      const before = crabline.accepted().length;
      await account.sendText({ peer: "987654321012@lid", text: "back to you" });
      await test.until(() => crabline.accepted().length > before);
      expect(crabline.accepted().at(-1)).toMatchObject({ peer: "987654321012@lid", text: "back to you" });
    });
  });

  it("a group message: the group is the peer, the participant the sender, not mentioned", async () => {
    await withAccount({}, async (_account, test) => {
      await crabline.inject({
        chatJid: "120363001234567890@g.us",
        senderJid: "15551234567@s.whatsapp.net",
        text: "lunch?",
        pushName: "Ada",
      });
      await test.until(() => test.received.length === 1);
      expect(test.received[0]).toMatchObject({
        chatType: "group",
        peer: "120363001234567890@g.us",
        sender: { id: "15551234567", name: "Ada" },
        text: "lunch?",
        wasMentioned: false,
      });
    });
  });

  it("audio is downloaded, decrypted and saved under the state dir (0600); above mediaMaxMb it is listed, not saved", async () => {
    const content = Buffer.from("OggS fake voice note bytes");
    await withAccount({ mediaMaxMb: 0.00005 }, async (_account, test) => {
      await crabline.inject({
        chatJid: "15551234567@s.whatsapp.net",
        senderJid: "15551234567@s.whatsapp.net",
        audio: { contentBase64: content.toString("base64"), mimeType: "audio/ogg", ptt: true },
      });
      await crabline.inject({
        chatJid: "15551234567@s.whatsapp.net",
        senderJid: "15551234567@s.whatsapp.net",
        audio: { contentBase64: Buffer.alloc(100, 7).toString("base64"), mimeType: "audio/ogg" },
      });
      await test.until(() => test.received.length === 2, 10_000);
      const [small, large] = test.received.map((message) => message.media![0]!);
      expect(small).toMatchObject({ kind: "voice", mimeType: "audio/ogg", size: content.length });
      expect(small!.path!.startsWith(`${test.context.stateDir}/media/`)).toBe(true);
      expect(small!.path!.endsWith(".ogg")).toBe(true);
      expect(readFileSync(small!.path!)).toEqual(content);
      expect(large).toMatchObject({ kind: "audio", size: 100 });
      expect(large!.path).toBeUndefined();
    });
  });

  it("a 10,000-character reply goes in chunks of at most 4096, in order; typing and read receipts reach WhatsApp", async () => {
    await withAccount({}, async (account, test) => {
      const id = await crabline.inject({
        chatJid: "15557654321@s.whatsapp.net",
        senderJid: "15557654321@s.whatsapp.net",
        text: "tell me a long story",
      });
      await test.until(() => test.received.length === 1);
      await test.until(() =>
        crabline.nodes().some((node) => node.tag === "receipt" && node.attrs.id === id && node.attrs.type === "read"),
      );
      await account.sendTyping!("15557654321");
      await test.until(() => crabline.nodes().some((node) => node.tag === "chatstate"));
      const words = Array.from({ length: 1_500 }, (_, index) => `w${String(index).padStart(5, "0")}`);
      const before = crabline.accepted().length;
      const started = Date.now();
      const result = await account.sendText({ peer: "15557654321", text: words.join(" ") });
      expect(result.messageIds).toHaveLength(3);
      // Paced: one message per second per chat.
      expect(Date.now() - started).toBeGreaterThanOrEqual(1_900);
      await test.until(() => crabline.accepted().length >= before + 3);
      const chunks = crabline.accepted().slice(before);
      expect(chunks.map((chunk) => chunk.id)).toEqual(result.messageIds);
      for (const chunk of chunks) expect(chunk.text!.length).toBeLessThanOrEqual(4096);
      expect(
        chunks
          .map((chunk) => chunk.text)
          .join(" ")
          .split(" "),
      ).toEqual(words);
    });
  }, 20_000);

  it("the Signal sessions made while sending are in the stored auth state after a stop", async () => {
    await withAccount({}, async (account) => {
      await account.sendText({ peer: "15550001111", text: "one" });
    });
    const store = (await AuthStore.open(crabline.authDir))!;
    try {
      expect(store.count("session")).toBeGreaterThan(0);
      expect(store.count("lid-mapping")).toBeGreaterThan(0);
    } finally {
      await store.close();
    }
  });
});
