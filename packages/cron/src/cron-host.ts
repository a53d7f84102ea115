import type { CronEvent } from "@gateway/protocol";

/** Where an announced result goes. */
export interface DeliveryTarget {
  channel: string;
  to?: string;
  accountId?: string;
  threadId?: string;
}

/** What the scheduler needs from the gateway. */
export interface CronHost {
  readonly mainSessionKey: string;
  /** A system event into a session (durable once resolved), waking the agent now or at the next heartbeat. */
  systemEvent(text: string, options: { sessionKey: string; wake: "now" | "next-heartbeat" }): Promise<void>;
  /** One agent turn in a session; resolves when it ended. */
  agentTurn(
    message: string,
    options: { sessionKey: string; timeoutMs: number },
  ): Promise<{ status: "ok" | "error" | "aborted"; text: string; error?: string; runId?: string; sessionId?: string }>;
  /** Send a result to a channel peer (`announce`); absent until channels exist. */
  deliver?(target: DeliveryTarget | "last", text: string): Promise<void>;
  broadcast(event: "cron", payload: CronEvent): void;
  log?: { info(message: string): void; warn(message: string): void };
}
