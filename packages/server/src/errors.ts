// The protocol error a method handler throws lives in @gateway/protocol, so every package (agent, channels) can
// throw it without depending on the server.
export { GatewayError, invalidRequest, ProtocolError, unavailable } from "@gateway/protocol";
