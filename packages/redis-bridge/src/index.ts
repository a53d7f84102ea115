// @gateway/redis-bridge — the public surface. Producers can import only `@gateway/redis-bridge/push`.

export { BridgeError } from "./bridge-error.js";
export {
  type CentralAgent,
  type CentralConsumerOptions,
  createCentralConsumer,
  routeEvents,
} from "./central-consumer.js";
export { RedisConfigSection, wakeModeFor } from "./config.js";
export { type ConsumerStatus, EventConsumer, type EventConsumerOptions } from "./consumer.js";
export { formatEventsPrompt } from "./format.js";
export {
  type BridgeKeys,
  bridgeKeys,
  CENTRAL_ALIASES,
  CENTRAL_SESSION,
  deadKey,
  eventsKey,
  notifyChannel,
  processingKey,
  SESSIONS_SET,
  seenKey,
} from "./keys.js";
export { type BridgeEvent, createEvent, pushEvent } from "./push.js";
