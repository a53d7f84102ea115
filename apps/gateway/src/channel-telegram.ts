// A bundle of its own (dist/channel-telegram.js): the gateway imports it only when channels.telegram is configured,
// so a gateway without Telegram never loads grammY.
export { telegramChannel as plugin } from "@gateway/channel-telegram";
