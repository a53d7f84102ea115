import type { ChannelPlugin } from "@gateway/plugin-sdk";
import type { LazyChannelPlugin } from "@gateway/server";
import { BUILTIN_CHANNEL_CONFIGS } from "./config.js";

/** The package of each built-in channel; its default export is the plugin. */
const PACKAGES: Readonly<Record<string, string>> = {
  telegram: "@gateway/channel-telegram",
  discord: "@gateway/channel-discord",
  slack: "@gateway/channel-slack",
  whatsapp: "@gateway/channel-whatsapp",
};

/**
 * The built-in channels as lazily loaded plugins: a channel's library is imported only when a config names it.
 * `load` replaces how it is imported (the app ships each channel as a bundle of its own and imports it by URL).
 */
export function builtinChannels(load?: (id: string) => Promise<ChannelPlugin>): LazyChannelPlugin[] {
  return BUILTIN_CHANNEL_CONFIGS.map((channel) => ({
    id: channel.id,
    meta: channel.meta,
    load: load ? () => load(channel.id) : () => importPlugin(PACKAGES[channel.id]!),
  }));
}

async function importPlugin(specifier: string): Promise<ChannelPlugin> {
  // A specifier in a variable: a bundler leaves the import to run time, so a bundle that brings its own loader does
  // not carry every channel's library.
  const module = (await import(specifier)) as { default: ChannelPlugin };
  return module.default;
}
