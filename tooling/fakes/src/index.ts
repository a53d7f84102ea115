// @gateway/fakes — test fakes of remote platforms, all on 127.0.0.1.
export {
  type FakeDiscord,
  type FakeDiscordAttachment,
  type FakeDiscordBot,
  type FakeDiscordBotOptions,
  type FakeDiscordCall,
  type FakeDiscordFlapping,
  type FakeDiscordGatewayEntry,
  type FakeDiscordGuild,
  type FakeDiscordMessage,
  type FakeDiscordMessageInput,
  type FakeDiscordUser,
  startFakeDiscord,
} from "./fake-discord.js";
export { contentText, type FakeOpenAI, type FakeReply, type FakeRequest, startFakeOpenAI } from "./fake-openai.js";
export {
  FAKE_SLACK_DEFAULT_SCOPES,
  type FakeSlack,
  type FakeSlackApp,
  type FakeSlackCall,
  type FakeSlackChannel,
  type FakeSlackDelivery,
  type FakeSlackFailure,
  type FakeSlackFile,
  type FakeSlackInbound,
  type FakeSlackPosted,
  type FakeSlackSilence,
  type FakeSlackSocket,
  type FakeSlackUser,
  signSlackRequest,
  startFakeSlack,
} from "./fake-slack.js";
export {
  type FakeInbound,
  type FakeTelegram,
  type FakeTelegramCall,
  type FakeTelegramChat,
  type FakeTelegramFailure,
  type FakeTelegramUser,
  startFakeTelegram,
} from "./fake-telegram.js";
/** Where the QR-login channel plugin is, for a gateway config's `plugins` (its `starts` export counts account starts). */
export const qrLoginPluginPath: string = new URL("./plugins/qr-login-plugin.ts", import.meta.url).pathname;
