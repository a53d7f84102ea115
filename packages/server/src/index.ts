// @gateway/server — the public surface.
export { AuthRateLimiter, secretsEqual } from "./auth.js";
export type { Audience, BroadcastObserver, BroadcastOptions } from "./broadcaster.js";
export {
  type AccountLease,
  type AccountOwnership,
  type AccountState,
  AccountSupervisor,
} from "./channels/account-supervisor.js";
export { attachChannels, type ChannelsAttachOptions } from "./channels/attach-channels.js";
export { ChannelManager, type ChannelManagerOptions } from "./channels/channel-manager.js";
export {
  accountConfigIssues,
  ChannelAccessConfig,
  ChannelSectionConfig,
  channelsConfigSections,
  PluginsConfig,
  type ResolvedAccount,
  resolveAccounts,
} from "./channels/channels-config.js";
export type { AccountMessage, DeliveryTarget, ForwardSend } from "./channels/delivery.js";
export type { AcceptedMessage, ChannelAgentHost } from "./channels/inbound-pipeline.js";
export { loadPluginModules } from "./channels/load-plugins.js";
export { ChannelPluginRegistry, type LazyChannelPlugin, type PluginFailure } from "./channels/plugin-registry.js";
export { attachConfig, serverOptionsFromConfig } from "./config/attach-config.js";
export {
  type ConfigApplier,
  ConfigManager,
  type ConfigManagerOptions,
  changedPaths,
  isRestartPath,
  mergePatch,
  PROCESS_RESTART_PATHS,
  RESTART_PATHS,
  type ReloadMode,
} from "./config/config-manager.js";
export { ConfigError, type ConfigIssue, formatIssues } from "./config/errors.js";
export {
  type ConfigLayer,
  ensureStarterConfig,
  hashConfigText,
  type LoadConfigOptions,
  type LoadedConfig,
  loadConfig,
  loadConfigText,
  starterConfig,
} from "./config/load-config.js";
export { isSecretKey, redactSecrets } from "./config/redact.js";
export {
  composeConfigSchema,
  GatewayConfigSection,
  LoggingConfigSection,
  serverConfigSections,
} from "./config/schema.js";
export { type ConnectContext, ConnectRefusal, type ConnectStage } from "./connect-pipeline.js";
export type { ConnectionIdentity } from "./connection.js";
export { DevicePairing, type DevicePairingOptions } from "./devices/device-pairing.js";
export { type ConnectedNode, type NodeAnswer, NodeRegistry } from "./devices/node-registry.js";
export { GatewayError, invalidRequest, ProtocolError, unavailable } from "./errors.js";
export {
  type FrontDoorSettings,
  hostRefusal,
  isAllowedHost,
  isAllowedOrigin,
  originRefusal,
} from "./front-door.js";
export {
  type CloseOptions,
  type ConnectionInfo,
  createGatewayPlugin,
  createGatewayServer,
  type GatewayPluginOptions,
  type GatewayServer,
  type GatewayService,
  type HttpRoute,
  type HttpRouteRequest,
  type ListenAddress,
  type MountableGateway,
  type PluginSurfaceRequest,
  type PluginSurfaceUrl,
  type SystemEvent,
} from "./gateway-server.js";
export type { HealthContributor } from "./health.js";
export { IdempotencyCache } from "./idempotency.js";
export { createLogger, type LoggerOptions, type OwnedLogger, REDACTED_PATHS } from "./logger.js";
export type { CoreMethodOptions, CustomMethodOptions, MethodContext, MethodHandler } from "./method-registry.js";
export type { AgentRunSample, GatewayMetrics, GatewayMetricsSink } from "./metrics.js";
export { type AuthOptions, type GatewayServerOptions, isLoopback, type ResolvedOptions } from "./options.js";
export type { SharedPresence } from "./presence.js";
export {
  certificateFingerprint,
  ensureGeneratedCertificate,
  type GeneratedCertificate,
  generatedCertificatePaths,
} from "./tls/generated-certificate.js";
export { createSelfSignedCertificate, type SelfSignedCertificate } from "./tls/self-signed-certificate.js";
