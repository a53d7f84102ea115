// @gateway/gateway — the gateway as a library: `createGateway(options)` composes everything the daemon runs.
export { builtinChannels } from "./builtin-channels.js";
export {
  BUILTIN_CHANNEL_CONFIGS,
  type BuiltinChannelConfig,
  builtinChannelIssues,
  ENVIRONMENT_OVERRIDES,
  type Environment,
  environmentLayer,
  fallbackModelFromEnvironment,
  gatewayConfigSchema,
  gatewayPaths,
  loadGatewayConfig,
} from "./config.js";
export { createGateway, type Gateway, type GatewayDescription, type GatewayOptions } from "./create-gateway.js";
