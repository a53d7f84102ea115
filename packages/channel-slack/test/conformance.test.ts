import { startFakeSlack } from "@gateway/fakes";
import { channelConformance } from "@gateway/plugin-sdk/testing";
import { slackChannel } from "../src/index.js";
import { FAST_SOCKET } from "./helpers.js";

// The real Bolt (Socket Mode) against the fake Slack: the suite every channel plugin passes.
channelConformance({
  plugin: slackChannel,
  async setup() {
    const fake = await startFakeSlack({ pingIntervalMs: 200, ackTimeoutMs: 600 });
    const app = fake.addApp({ botName: "conformance_bot" });
    const dm = fake.addChannel({ id: "D0CONFORM", type: "im" });
    return {
      config: { botToken: app.botToken, appToken: app.appToken, apiUrl: fake.apiUrl, socket: FAST_SOCKET },
      fatalConfig: { botToken: "xoxb-not-a-token-the-fake-knows", appToken: app.appToken, apiUrl: fake.apiUrl },
      directPeer: dm.id,
      async injectDirect(text, sender) {
        fake.addUser({ id: sender.id, name: sender.name.toLowerCase(), real_name: sender.name });
        await fake.inject(app, { channel: dm.id, user: sender.id, text });
      },
      sent: () => fake.posted.map((message) => ({ peer: message.channel, text: message.text })),
      goDown: () => fake.goDown(),
      comeBack: () => fake.comeBack(),
      teardown: () => fake.close(),
    };
  },
});
