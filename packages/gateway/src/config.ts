// @gateway/gateway/config — the whole config's schema and the built-in channels' settings, without loading a
// server, an agent or a channel library (the CLI validates with it; `createGateway` runs with it).
import { agentConfigSections } from "@gateway/agent";
import { CanvasHostConfigSection } from "@gateway/canvas-host/config";
import { discordConfigPlugin } from "@gateway/channel-discord/config";
import { slackConfigPlugin } from "@gateway/channel-slack/config";
import { telegramConfigPlugin } from "@gateway/channel-telegram/config";
import { whatsappConfigPlugin } from "@gateway/channel-whatsapp/config";
import { cronConfigSections } from "@gateway/cron/config";
import { DiscoveryConfigSection } from "@gateway/discovery/config";
import { FleetConfigSection } from "@gateway/fleet/config";
import { RedisConfigSection } from "@gateway/redis-bridge/config";
import {
  accountConfigIssues,
  type ConfigLayer,
  channelsConfigSections,
  composeConfigSchema,
  type LoadedConfig,
  loadConfig,
  resolveAccounts,
  serverConfigSections,
} from "@gateway/server/config";
import { TailscaleConfigSection } from "@gateway/tailscale/config";
import { type TObject, Type } from "@sinclair/typebox";
import { type Environment, environmentLayer } from "./environment.js";

export {
  ENVIRONMENT_OVERRIDES,
  type Environment,
  environmentLayer,
  fallbackModelFromEnvironment,
  gatewayPaths,
} from "./environment.js";

/** The `gateway` section: the server's, plus `tailscale` (owned by @gateway/tailscale). */
const GatewaySection = Type.Object(
  { ...serverConfigSections.gateway.properties, tailscale: Type.Optional(TailscaleConfigSection) },
  { additionalProperties: false },
);

/** The whole config schema: the sections each package owns. Unknown top-level keys are errors. */
export const gatewayConfigSchema = composeConfigSchema({
  ...serverConfigSections,
  gateway: GatewaySection,
  ...agentConfigSections,
  redis: RedisConfigSection,
  fleet: FleetConfigSection,
  ...cronConfigSections,
  ...channelsConfigSections,
  canvasHost: CanvasHostConfigSection,
  discovery: DiscoveryConfigSection,
});

/** What the gateway knows of a built-in channel without loading its library. */
export interface BuiltinChannelConfig {
  readonly id: string;
  readonly meta: { label: string; docs?: string; setup?: string };
  readonly configSchema: TObject;
}

/** The channels that ship with the gateway (the one list; `builtinChannels` adds how to load each). */
export const BUILTIN_CHANNEL_CONFIGS: readonly BuiltinChannelConfig[] = [
  telegramConfigPlugin,
  discordConfigPlugin,
  slackConfigPlugin,
  whatsappConfigPlugin,
];

/** Problems in `channels.<built-in>` sections, each with its path; plugin channels are checked by the gateway. */
export function builtinChannelIssues(config: { channels?: Record<string, unknown> }): string[] {
  const issues: string[] = [];
  for (const plugin of BUILTIN_CHANNEL_CONFIGS) {
    const section = config.channels?.[plugin.id] as Record<string, unknown> | undefined;
    for (const account of resolveAccounts(plugin.id, section)) issues.push(...accountConfigIssues(plugin, account));
  }
  return issues;
}

/** Load the config the way the gateway does: the file, then `GATEWAY_*` variables, then `layers` (flags). */
export function loadGatewayConfig(options: {
  stateDir: string;
  configPath: string;
  env: Environment;
  layers?: readonly ConfigLayer[];
}): LoadedConfig {
  return loadConfig({
    path: options.configPath,
    stateDir: options.stateDir,
    schema: gatewayConfigSchema,
    env: options.env,
    layers: [environmentLayer(options.env), ...(options.layers ?? [])],
  });
}
