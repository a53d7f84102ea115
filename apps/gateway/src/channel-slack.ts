// A bundle of its own (dist/channel-slack.js): the gateway imports it only when channels.slack is configured, so a
// gateway without Slack never loads Bolt.
export { slackChannel as plugin } from "@gateway/channel-slack";
