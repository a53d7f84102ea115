import type { GatewayHost } from "@gateway/protocol";
import type { SessionOrigin } from "./session-store.js";

/** What the service needs from the gateway: the host contract (methods, events), delivery and system events. */
export interface AgentHost extends GatewayHost {
  /** Refuse a delivery target that no channel serves (throw with what to do); absent: every target is refused. */
  checkDeliveryTarget?(target: SessionOrigin): void;
  /** Send an answer to a channel (`agent` with `deliver`). */
  deliver?(target: SessionOrigin, text: string): Promise<void>;
  /** System events queued by `system-event` for the main session; they go into its next run. */
  drainSystemEvents?(): Array<{ text: string; ts: number; sessionKey?: string }>;
}
