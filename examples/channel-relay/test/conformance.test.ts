import { channelConformance } from "@gateway/plugin-sdk/testing";
import relay from "../src/index.js";
import { startFakeRelay } from "./fake-relay.js";

// The same suite every channel plugin passes: the real plugin against its platform's fake.
channelConformance({
  plugin: relay,
  async setup() {
    const fake = await startFakeRelay("secret-token");
    return {
      config: { url: fake.url, token: "secret-token", waitSeconds: 1 },
      fatalConfig: { url: fake.url, token: "wrong-token" },
      directPeer: "chat-4242",
      injectDirect: async (text, sender) => fake.inject("chat-4242", sender, text),
      sent: () => fake.sent,
      goDown: () => fake.goDown(),
      comeBack: () => fake.comeBack(),
      teardown: () => fake.close(),
    };
  },
});
