// A bundle of its own (dist/channel-discord.js): the gateway imports it only when channels.discord is configured,
// so a gateway without Discord never loads discord.js.
export { discordChannel as plugin } from "@gateway/channel-discord";
