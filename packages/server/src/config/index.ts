// @gateway/server/config — the config loader without the server (no fastify, no ws): what the CLI needs to find and
// validate the local gateway's configuration quickly.

export {
  accountConfigIssues,
  ChannelAccessConfig,
  ChannelSectionConfig,
  channelsConfigSections,
  PluginsConfig,
  type ResolvedAccount,
  resolveAccounts,
} from "../channels/channels-config.js";
export { changedPaths, isRestartPath, mergePatch, PROCESS_RESTART_PATHS, RESTART_PATHS } from "./config-manager.js";
export { ConfigError, type ConfigIssue, formatIssues } from "./errors.js";
export { editJson5, Json5EditError, patchJson5, readJson5Path } from "./json5-edit.js";
export {
  type ConfigLayer,
  ensureStarterConfig,
  environmentWithDotEnv,
  hashConfigText,
  type LoadConfigOptions,
  type LoadedConfig,
  loadConfig,
  loadConfigText,
  starterConfig,
} from "./load-config.js";
export { readConfigFile } from "./read-config-file.js";
export { isSecretKey, redactSecrets } from "./redact.js";
export { composeConfigSchema, GatewayConfigSection, LoggingConfigSection, serverConfigSections } from "./schema.js";
export { substituteEnv } from "./substitute.js";
