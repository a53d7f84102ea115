// @gateway/client — the public surface (works in Node ≥ 22 and browsers; no Node-only imports).
export {
  createMemoryKeyStore,
  type DeviceConnectBlock,
  DeviceIdentity,
  type DeviceKeyStore,
  type DeviceSignatureInput,
  deviceAuthPayload,
  loadDeviceIdentity,
  type StoredDeviceIdentity,
} from "./device-identity.js";
export { type ClientErrorCode, GatewayClientError } from "./errors.js";
export {
  ALL_OPERATOR_SCOPES,
  type ClientState,
  createGatewayClient,
  GatewayClient,
  type GatewayClientOptions,
  type ReconnectOptions,
  type RequestOptions,
  type RequestParams,
  type WebSocketConstructor,
} from "./gateway-client.js";
export { createNodeClient, type NodeClientOptions, type NodeCommandHandler } from "./node-client.js";
export { randomId } from "./random-id.js";
