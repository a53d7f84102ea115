import { GatewayError, hasErrorMarker } from "@gateway/protocol";

const BRIDGE_ERROR = Symbol.for("gateway.error.bridge");

/** A bridge operation that failed: an event that is not one, or a push Redis did not take. */
export class BridgeError extends GatewayError {
  readonly [BRIDGE_ERROR] = true;
  declare readonly code: "BRIDGE_INVALID_EVENT" | "BRIDGE_PUSH_FAILED";

  constructor(code: BridgeError["code"], message: string, options: { cause?: unknown } = {}) {
    super(code, message, options);
  }

  static override isInstance(value: unknown): value is BridgeError {
    return hasErrorMarker(value, BRIDGE_ERROR);
  }
}
