import type { ChannelLogger } from "@gateway/plugin-sdk";
import type { App, Receiver } from "@slack/bolt";
import type { SlackEventDedupe } from "./dedupe.js";

/**
 * Bolt's receiver for the gateway: events come from our Socket Mode link or our HTTP route (already acked, their
 * signature checked), are deduplicated by event id (Slack retries deliveries it thinks were lost), and go through
 * Bolt's `processEvent` (its middleware: ignoring the bot's own messages; then our listeners).
 */
export class GatewayReceiver implements Receiver {
  #app: App | undefined;

  constructor(
    private readonly dedupe: SlackEventDedupe,
    private readonly logger: ChannelLogger,
  ) {}

  init(app: App): void {
    this.#app = app;
  }

  start(): Promise<void> {
    return Promise.resolve();
  }

  stop(): Promise<void> {
    return Promise.resolve();
  }

  /** An `event_callback` body that was acked: processed unless its event id was processed before. */
  async dispatch(body: Record<string, unknown>, retryNum?: number, retryReason?: string): Promise<void> {
    const app = this.#app;
    if (!app) return;
    const eventId = typeof body.event_id === "string" ? body.event_id : undefined;
    if (eventId) {
      const claimed = this.dedupe.claim(eventId);
      const first = typeof claimed === "boolean" ? claimed : await claimed;
      if (!first) {
        this.logger.debug(`slack: event ${eventId} already handled (retry ${retryNum ?? 0}, ${retryReason ?? "-"})`);
        return;
      }
    }
    await app.processEvent({
      body,
      ack: async () => undefined,
      ...(retryNum !== undefined ? { retryNum } : {}),
      ...(retryReason !== undefined ? { retryReason } : {}),
    });
  }
}
