import { startFakeTelegram } from "@gateway/fakes";
import { channelConformance } from "@gateway/plugin-sdk/testing";
import { telegramChannel } from "../src/index.js";

// The real grammY against the fake Bot API: the suite every channel plugin passes.
channelConformance({
  plugin: telegramChannel,
  async setup() {
    const fake = await startFakeTelegram();
    const token = fake.addBot("conformance_bot");
    return {
      config: { botToken: token, apiRoot: fake.apiRoot, pollTimeoutSeconds: 1 },
      fatalConfig: { botToken: "123:not-a-token-the-fake-knows", apiRoot: fake.apiRoot, pollTimeoutSeconds: 1 },
      directPeer: "4242",
      async injectDirect(text, sender) {
        await fake.inject(token, {
          chat: { id: Number(sender.id), type: "private", first_name: sender.name },
          from: { id: Number(sender.id), is_bot: false, first_name: sender.name },
          text,
        });
      },
      sent: () => fake.sent(token).map((message) => ({ peer: String(message.chat_id), text: message.text })),
      goDown: () => fake.goDown(),
      comeBack: () => fake.comeBack(),
      teardown: () => fake.close(),
    };
  },
});
