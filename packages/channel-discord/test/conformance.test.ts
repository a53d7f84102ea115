import { startFakeDiscord } from "@gateway/fakes";
import { channelConformance } from "@gateway/plugin-sdk/testing";
import { discordChannel } from "../src/index.js";

// The real discord.js against the fake Discord (REST and gateway): the suite every channel plugin passes.
channelConformance({
  plugin: discordChannel,
  async setup() {
    const fake = await startFakeDiscord();
    const bot = fake.addBot("conformance_bot");
    const reconnect = { baseMs: 200, maxMs: 1_000 };
    return {
      config: { token: bot.token, apiRoot: fake.apiRoot, reconnect },
      fatalConfig: { token: "MTIz.not-a-token.the-fake-knows", apiRoot: fake.apiRoot, reconnect },
      directPeer: fake.dmChannel(bot.token, "4242"),
      async injectDirect(text, sender) {
        fake.dm(bot.token, { id: sender.id, username: sender.name.toLowerCase(), global_name: sender.name }, text);
      },
      sent: () => fake.sent(bot.token).map((message) => ({ peer: message.channel_id, text: message.content })),
      goDown: () => fake.goDown(),
      comeBack: () => fake.comeBack(),
      teardown: () => fake.close(),
    };
  },
});
