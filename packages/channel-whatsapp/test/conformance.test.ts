import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { channelConformance } from "@gateway/plugin-sdk/testing";
import { createWhatsAppChannel } from "../src/index.js";
import { seedLinkedCredentials } from "../src/testing.js";
import { FakeWhatsApp, SELF, textMessage } from "./fake-whatsapp.js";

// The suite every channel plugin passes, through the socket seam: the suite's sender "4242" is not a number any
// WhatsApp server (crabline's included) accepts, so the fake delivers it. The same behaviours with the real Baileys
// against crabline are in crabline.test.ts and outage.test.ts.
const fake = new FakeWhatsApp();
let down = false;
const plugin = createWhatsAppChannel({
  socketFactory: (options) => {
    fake.script = [down ? { kind: "close", code: undefined } : { kind: "open" }];
    return fake.factory(options);
  },
});

channelConformance({
  plugin,
  async setup() {
    const root = mkdtempSync(join(tmpdir(), "wa-conformance-"));
    const authDir = join(root, "credentials");
    await seedLinkedCredentials(authDir, SELF.id.replace(":7", ""));
    const reconnect = { baseMs: 50, maxMs: 200 };
    return {
      config: { authDir, reconnect },
      fatalConfig: { authDir: join(root, "never-linked"), reconnect },
      directPeer: "4242",
      async injectDirect(text, sender) {
        const socket = await fake.open();
        socket.deliver([textMessage({ chat: `${sender.id}@s.whatsapp.net`, text, name: sender.name })]);
      },
      sent: () =>
        fake.sent.map((message) => ({ peer: message.jid.split("@")[0]!, text: String(message.content.text) })),
      async goDown() {
        down = true;
        fake.sockets.at(-1)?.close(428);
      },
      async comeBack() {
        down = false;
      },
      async teardown() {
        rmSync(root, { recursive: true, force: true });
      },
    };
  },
});
