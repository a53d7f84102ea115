// @gateway/plugin-sdk — what a channel plugin implements and the helpers it shares. Tests: `@gateway/plugin-sdk/testing`.
export { ChannelAccountBase } from "./account-base.js";
export { chunkText } from "./chunk.js";
export {
  ChannelError,
  type ChannelErrorOptions,
  type ChannelFailure,
  ChannelNetworkError,
  ChannelPlatformError,
  ChannelPluginError,
  isFatal,
  retryAfterOf,
  toChannelError,
  wrapError,
} from "./errors.js";
export { Pacer, type PacerOptions } from "./pacing.js";
export { type BackoffOptions, backoffDelay, ReconnectSupervisor, retry } from "./retry.js";
export {
  CHANNEL_SPECIFICATION_VERSION,
  type ChannelAccount,
  type ChannelCapabilities,
  type ChannelContext,
  type ChannelHttpRoute,
  type ChannelLogger,
  type ChannelLoginState,
  type ChannelPlugin,
  type ChannelStatus,
  type ChatType,
  defineChannelPlugin,
  type InboundMessage,
  type MediaRef,
  type OutboundMessage,
  type SendResult,
} from "./types.js";
