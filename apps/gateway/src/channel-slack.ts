// A bundle of its own (dist/channel-slack.js): the gateway imports it only when channels.slack is configured, so a
// gateway without Slack never loads Bolt. Also exported as `plugin` (what the restructured loader on main imports).
export { slackChannel as plugin, slackChannel } from "@gateway/channel-slack";
