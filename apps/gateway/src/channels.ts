// The messaging channels of the app: the channel manager on the server, fed to the agent (a message becomes a run in
// the session its chat maps to; the reply goes back to the same chat), and the delivery paths that need a channel
// (`agent --deliver`, cron announce, the heartbeat).
import { dirname } from "node:path";
import { type AgentService, type DmScope, type SessionOrigin, sessionKeyFor } from "@gateway/agent";
import { attachChannels, ChannelManager, type ConfigManager, type GatewayServer } from "@gateway/server";

/**
 * Built-in channels ship as bundles next to this one, imported by URL at run time (a literal import would put them in
 * the main bundle: grammY and its fetch stack are larger than the rest of the gateway).
 */
const TELEGRAM_BUNDLE: string = new URL("./channel-telegram.js", import.meta.url).href;
const SLACK_BUNDLE: string = new URL("./channel-slack.js", import.meta.url).href;

/** The parts of the config the channels read. */
interface ChannelsConfig {
  channels?: Record<string, unknown>;
  plugins?: string[];
  session?: { dmScope?: DmScope };
}

/** Create the channel manager, put it on the server and follow config edits of `channels`. */
export function setUpChannels(options: {
  server: GatewayServer;
  config: ConfigManager;
  agent: AgentService;
  stateDir: string;
  configPath: string;
}): ChannelManager {
  const { server, agent } = options;
  const current = () => options.config.current.config as ChannelsConfig;
  let healthPending = false;
  const channels = new ChannelManager({
    stateDir: options.stateDir,
    logger: server.logger,
    builtins: [
      {
        id: "telegram",
        load: async () => ((await import(TELEGRAM_BUNDLE)) as typeof import("./channel-telegram.js")).telegramChannel,
      },
      {
        id: "slack",
        load: async () => ((await import(SLACK_BUNDLE)) as typeof import("./channel-slack.js")).slackChannel,
      },
    ],
    onStatusChange() {
      // Many status changes come in bursts (start, connect): one health broadcast for them.
      if (healthPending) return;
      healthPending = true;
      setTimeout(() => {
        healthPending = false;
        server.refreshHealth();
      }, 250).unref();
    },
    host: {
      async run({ inbound, text }) {
        const sessionKey = sessionKeyFor(inbound, {
          agentId: agent.agentId,
          ...(current().session?.dmScope ? { dmScope: current().session!.dmScope! } : {}),
        });
        const origin: SessionOrigin = {
          channel: inbound.channel,
          accountId: inbound.accountId,
          peer: inbound.peer,
          ...(inbound.threadId ? { threadId: inbound.threadId } : {}),
        };
        const run = await agent.send(sessionKey, text, { origin });
        const outcome = await run.done;
        if (outcome.stopReason === "error") return `Sorry, I could not answer: ${outcome.error ?? "the agent failed"}`;
        if (outcome.stopReason === "aborted") return undefined;
        return outcome.text;
      },
    },
  });
  attachChannels(server, channels, {
    channels: () => current().channels,
    plugins: current().plugins ?? [],
    baseDir: dirname(options.configPath),
  });
  options.config.subscribe("channels", (next) => channels.apply((next as ChannelsConfig).channels));
  return channels;
}

/** Where "last" points: the main session's chat, else the most recently active chat. */
export function lastTarget(agent: AgentService): SessionOrigin | undefined {
  const main = agent.store.get(agent.mainSessionKey)?.origin;
  if (main?.peer) return main;
  return agent.store
    .list()
    .filter((entry) => entry.origin?.peer)
    .sort((a, b) => b.updatedAt - a.updatedAt)[0]?.origin;
}
