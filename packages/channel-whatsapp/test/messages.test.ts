// Inbound and outbound details through the socket seam: groups and mention gating on the bot's JID and LID, LID
// identities with phone aliases, quoted replies, what is never passed on, media in both directions, formatting,
// pacing and quoting.
import { createCipheriv, createHmac, hkdfSync, randomBytes } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createTestContext } from "@gateway/plugin-sdk/test-context";
import type { WAMessage } from "@whiskeysockets/baileys";
import { afterEach, describe, expect, it } from "vitest";
import { createWhatsAppChannel } from "../src/index.js";
import { seedLinkedCredentials } from "../src/testing.js";
import { FakeWhatsApp, SELF, textMessage } from "./fake-whatsapp.js";

const cleanups: Array<() => unknown> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

const GROUP = "120363001234567890@g.us";
const BOT_PHONE = "15550000000@s.whatsapp.net";
const BOT_LID = "424242424242@lid";

async function running(config: Record<string, unknown> = {}) {
  const root = mkdtempSync(join(tmpdir(), "wa-messages-"));
  await seedLinkedCredentials(join(root, "c"), BOT_PHONE);
  const fake = new FakeWhatsApp();
  const merged = { authDir: join(root, "c"), ...config };
  const test = createTestContext("whatsapp", "default", merged);
  const account = createWhatsAppChannel({ socketFactory: fake.factory }).createAccount("default", merged);
  cleanups.push(
    () => rmSync(root, { recursive: true, force: true }),
    () => test.dispose(),
    () => account.stop(),
  );
  await account.start(test.context);
  return { fake, test, account, socket: fake.current, root };
}

describe("inbound", () => {
  it("groups: a mention of the bot's phone JID or LID, or a reply to the bot, counts as addressed; other talk does not", async () => {
    const { test, socket } = await running();
    socket.deliver([
      textMessage({ chat: GROUP, participant: "15551112222@s.whatsapp.net", text: "lunch at noon?" }),
      textMessage({
        chat: GROUP,
        participant: "15551112222@s.whatsapp.net",
        text: "@15550000000 are you there?",
        contextInfo: { mentionedJid: ["15550000000@s.whatsapp.net"] },
      }),
      textMessage({
        chat: GROUP,
        participant: "15551112222@s.whatsapp.net",
        text: "@424242424242 and by lid?",
        contextInfo: { mentionedJid: ["424242424242:7@lid"] },
      }),
      textMessage({
        chat: GROUP,
        participant: "15551112222@s.whatsapp.net",
        text: "replying to you",
        contextInfo: { stanzaId: "BOTMSG1", participant: BOT_LID, quotedMessage: { conversation: "an answer" } },
      }),
      textMessage({
        chat: GROUP,
        participant: "15551112222@s.whatsapp.net",
        text: "@15553334444 not you",
        contextInfo: { mentionedJid: ["15553334444@s.whatsapp.net"] },
      }),
    ]);
    await test.until(() => test.received.length === 5);
    expect(test.received.map((message) => message.wasMentioned)).toEqual([false, true, true, true, false]);
    expect(test.received.every((message) => message.chatType === "group" && message.peer === GROUP)).toBe(true);
    expect(test.received[3]!.replyTo).toEqual({ messageId: "BOTMSG1", senderId: BOT_LID, isFromBot: true });
  });

  it("LID identities: keyed by LID with the phone number as aliases, learnt from the envelope or Baileys' mapping", async () => {
    const { test, socket } = await running();
    socket.deliver([
      textMessage({ chat: "111122223333@lid", alternate: "15557778888@s.whatsapp.net", text: "by lid" }),
    ]);
    await test.until(() => test.received.length === 1);
    expect(test.received[0]!.sender).toEqual({
      id: "111122223333@lid",
      name: "Ada",
      aliases: ["+15557778888", "15557778888", "15557778888@s.whatsapp.net"],
    });
    expect(test.received[0]!.peer).toBe("111122223333@lid");
    // The same person writing from their number is still the LID.
    socket.deliver([textMessage({ chat: "15557778888@s.whatsapp.net", text: "by number" })]);
    // Someone whose mapping arrives through Baileys' lid-mapping event.
    socket.emit("lid-mapping.update", { lid: "999988887777@lid", pn: "15556665555@s.whatsapp.net" });
    socket.deliver([textMessage({ chat: GROUP, participant: "15556665555:2@s.whatsapp.net", text: "in a group" })]);
    await test.until(() => test.received.length === 3);
    expect(test.received[1]!.sender.id).toBe("111122223333@lid");
    expect(test.received[2]!.sender).toMatchObject({
      id: "999988887777@lid",
      aliases: ["+15556665555", "15556665555", "15556665555@s.whatsapp.net"],
    });
  });

  it("text, extended text and captions; quoted replies carry what they answer", async () => {
    const { test, socket } = await running();
    const message = (content: Record<string, unknown>) =>
      ({ ...textMessage({ chat: "15551112222@s.whatsapp.net", text: "" }), message: content }) as WAMessage;
    socket.deliver([
      message({
        extendedTextMessage: {
          text: "see https://example.org",
          contextInfo: { stanzaId: "Q1", participant: "15553334444@s.whatsapp.net" },
        },
      }),
      message({ imageMessage: { caption: "a caption", mimetype: "image/jpeg", fileLength: 10 * 1024 * 1024 * 1024 } }),
      message({ ephemeralMessage: { message: { conversation: "disappearing" } } }),
    ]);
    await test.until(() => test.received.length === 3);
    expect(test.received.map((inbound) => inbound.text)).toEqual([
      "see https://example.org",
      "a caption",
      "disappearing",
    ]);
    expect(test.received[0]!.replyTo).toEqual({ messageId: "Q1", senderId: "15553334444", isFromBot: false });
    // Far above the cap: listed, never fetched.
    expect(test.received[1]!.media).toEqual([{ kind: "photo", mimeType: "image/jpeg", size: 10 * 1024 * 1024 * 1024 }]);
  });

  it("never passed on: our own messages, history sync (append), status broadcasts, reactions and protocol messages", async () => {
    const { test, socket } = await running();
    socket.deliver([textMessage({ chat: "15551112222@s.whatsapp.net", text: "old news" })], "append");
    socket.deliver([
      textMessage({ chat: "15551112222@s.whatsapp.net", text: "sent from my phone", fromMe: true }),
      textMessage({ chat: "status@broadcast", participant: "15551112222@s.whatsapp.net", text: "my status" }),
      {
        ...textMessage({ chat: "15551112222@s.whatsapp.net", text: "" }),
        message: { reactionMessage: { text: "👍" } },
      } as WAMessage,
      {
        ...textMessage({ chat: "15551112222@s.whatsapp.net", text: "" }),
        message: { protocolMessage: { type: 0 } },
      } as WAMessage,
      textMessage({ chat: "15551112222@s.whatsapp.net", text: "the live one" }),
    ]);
    await test.until(() => test.received.length >= 1);
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(test.received.map((message) => message.text)).toEqual(["the live one"]);
  });

  it("a document is fetched, decrypted (WhatsApp's media encryption) and saved 0600 under the state dir", async () => {
    const content = Buffer.from("%PDF-1.7 quarterly numbers");
    const mediaKey = randomBytes(32);
    const expanded = Buffer.from(hkdfSync("sha256", mediaKey, Buffer.alloc(32), "WhatsApp Document Keys", 112));
    const cipher = createCipheriv("aes-256-cbc", expanded.subarray(16, 48), expanded.subarray(0, 16));
    const encrypted = Buffer.concat([cipher.update(content), cipher.final()]);
    const mac = createHmac("sha256", expanded.subarray(48, 80))
      .update(expanded.subarray(0, 16))
      .update(encrypted)
      .digest();
    const file = Buffer.concat([encrypted, mac.subarray(0, 10)]);
    const server = createServer((_request, response) => response.end(file));
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    cleanups.push(() => new Promise((resolve) => server.close(resolve)));
    const url = `http://127.0.0.1:${(server.address() as { port: number }).port}/doc`;
    const { test, socket } = await running();
    socket.deliver([
      {
        ...textMessage({ chat: "15551112222@s.whatsapp.net", text: "" }),
        message: {
          documentMessage: {
            url,
            mediaKey,
            mimetype: "application/pdf",
            fileName: "q3.pdf",
            fileLength: content.length,
            caption: "numbers",
          },
        },
      } as WAMessage,
    ]);
    await test.until(() => test.received.length === 1);
    const [media] = test.received[0]!.media!;
    expect(media).toMatchObject({
      kind: "document",
      mimeType: "application/pdf",
      fileName: "q3.pdf",
      size: content.length,
    });
    expect(media!.path!.endsWith(".pdf")).toBe(true);
    expect(readFileSync(media!.path!)).toEqual(content);
    expect(test.received[0]!.text).toBe("numbers");
    expect(socket.receipts).toHaveLength(1);
  });
});

describe("outbound", () => {
  it("markdown becomes WhatsApp formatting", async () => {
    const { fake, account } = await running();
    await account.sendText({
      peer: "+15551112222",
      text: "# Plan\n**bold**, *italic*, ~~gone~~, `code` and [docs](https://example.org)\n* one\n```ts\nconst x = 1;\n```",
    });
    expect(fake.sent[0]!.content.text).toBe(
      "*Plan*\n*bold*, _italic_, ~gone~, `code` and docs (https://example.org)\n- one\n```\nconst x = 1;\n```",
    );
    expect(fake.sent[0]!.jid).toBe("15551112222@s.whatsapp.net");
  });

  it("a number with a known LID is sent to the LID", async () => {
    const { fake, account, socket } = await running();
    socket.emit("lid-mapping.update", { lid: "555566667777@lid", pn: "15551112222@s.whatsapp.net" });
    await account.sendText({ peer: "15551112222", text: "hi" });
    fake.lids.set("15553334444@s.whatsapp.net", "777766665555@lid");
    await account.sendText({ peer: "+15553334444", text: "hi" });
    expect(fake.sent.map((message) => message.jid)).toEqual(["555566667777@lid", "777766665555@lid"]);
  });

  it("in groups the reply quotes the message it answers; in DMs only with quoteReplies: always", async () => {
    const { fake, test, account, socket } = await running();
    const question = textMessage({
      chat: GROUP,
      participant: "15551112222@s.whatsapp.net",
      text: "@bot what time?",
      contextInfo: { mentionedJid: [BOT_PHONE] },
    });
    socket.deliver([question]);
    await test.until(() => test.received.length === 1);
    await account.sendText({ peer: GROUP, text: "noon", replyToMessageId: question.key.id! });
    expect(fake.sent[0]).toMatchObject({ jid: GROUP, content: { text: "noon" } });
    expect(fake.sent[0]!.quoted?.key.id).toBe(question.key.id);
    expect(fake.sent[0]!.quoted?.message).toEqual(question.message);
    await account.sendText({ peer: "15551112222", text: "dm", replyToMessageId: "X1" });
    expect(fake.sent[1]!.quoted).toBeUndefined();
    const always = await running({ quoteReplies: "always" });
    await always.account.sendText({ peer: "15551112222", text: "dm", replyToMessageId: "X1" });
    expect(always.fake.sent[0]!.quoted?.key).toMatchObject({ id: "X1", remoteJid: "15551112222@s.whatsapp.net" });
  });

  it("paced: at most one message per second to a chat; other chats are not held up", async () => {
    const { fake, account } = await running();
    const text = Array.from({ length: 1_000 }, (_, index) => `w${String(index).padStart(5, "0")}`).join(" ");
    const long = account.sendText({ peer: "15551112222", text });
    await new Promise((resolve) => setTimeout(resolve, 50));
    await account.sendText({ peer: "15553334444", text: "other chat" });
    await long;
    const first = fake.sent.filter((message) => message.jid.startsWith("15551112222"));
    expect(first).toHaveLength(2);
    expect(first[1]!.at - first[0]!.at).toBeGreaterThanOrEqual(990);
    const other = fake.sent.find((message) => message.jid.startsWith("15553334444"))!;
    expect(other.at - first[0]!.at).toBeLessThan(500);
  });

  it("typing is WhatsApp's composing presence", async () => {
    const { account, socket } = await running();
    await account.sendTyping!("120363001234567890@g.us");
    expect(socket.presence).toEqual([{ type: "composing", jid: GROUP }]);
  });

  it("sendMedia: an image with its caption, a document with its name and type; a missing file is a clear error", async () => {
    const { fake, account, root } = await running();
    const image = join(root, "chart.png");
    const document = join(root, "report.pdf");
    writeFileSync(image, Buffer.from("png bytes"));
    writeFileSync(document, Buffer.from("pdf bytes"));
    const sent = await account.sendMedia!({
      peer: GROUP,
      text: "**the chart**",
      media: { kind: "photo", path: image },
    });
    await account.sendMedia!({ peer: "15551112222", text: "", media: { kind: "document", path: document } });
    expect(sent.messageIds).toHaveLength(1);
    expect(fake.sent[0]!.content).toEqual({ image: { url: image }, caption: "*the chart*" });
    expect(fake.sent[1]!.content).toEqual({
      document: { url: document },
      mimetype: "application/pdf",
      fileName: "report.pdf",
    });
    const failure = await account.sendMedia!({
      peer: GROUP,
      text: "",
      media: { kind: "document", path: join(root, "nope.txt") },
    }).catch((error: Error) => error);
    expect((failure as Error).message).toMatch(/sendMedia: cannot read .*nope\.txt/);
  });

  it("a chat id WhatsApp cannot have is refused with the forms it accepts", async () => {
    const { account } = await running();
    const failure = await account.sendText({ peer: "ada@example.org", text: "hi" }).catch((error: Error) => error);
    expect((failure as Error).message).toMatch(/is not a WhatsApp chat: use a phone number/);
  });
});

describe("several accounts", () => {
  it("each account has its own socket and credentials; a second account on the same credentials is refused", async () => {
    const first = await running();
    const second = await running();
    first.socket.deliver([textMessage({ chat: "15551112222@s.whatsapp.net", text: "to the first" })]);
    second.socket.deliver([textMessage({ chat: "15553334444@s.whatsapp.net", text: "to the second" })]);
    await first.test.until(() => first.test.received.length === 1);
    await second.test.until(() => second.test.received.length === 1);
    expect(first.test.received.map((message) => message.text)).toEqual(["to the first"]);
    expect(second.test.received.map((message) => message.text)).toEqual(["to the second"]);
    await second.account.sendText({ peer: "15553334444", text: "from the second" });
    expect(first.fake.sent).toHaveLength(0);
    expect(second.fake.sent).toHaveLength(1);
    // The same authDir as the first (which runs): one session, one owner.
    const config = { authDir: join(first.root, "c") };
    const test = createTestContext("whatsapp", "copy", config);
    const copy = createWhatsAppChannel({ socketFactory: new FakeWhatsApp().factory }).createAccount("copy", config);
    cleanups.push(
      () => test.dispose(),
      () => copy.stop(),
    );
    const failure = await copy.start(test.context).catch((error: Error) => error);
    expect((failure as Error).message).toMatch(/in use by another account of this gateway: one session has one owner/);
  });
});

void SELF;
