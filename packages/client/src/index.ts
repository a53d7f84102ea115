// @gateway/client — the public surface (works in Node ≥ 22 and browsers; no Node-only imports).
export { type ClientErrorCode, GatewayClientError } from "./errors.js";
export {
  type ClientState,
  createGatewayClient,
  GatewayClient,
  type GatewayClientOptions,
  type ReconnectOptions,
  type RequestOptions,
  type RequestParams,
  type WebSocketConstructor,
} from "./gateway-client.js";
export { randomId } from "./random-id.js";
