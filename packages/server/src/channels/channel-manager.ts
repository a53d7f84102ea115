import { DmPairingStore, PAIRING_PENDING_PER_ACCOUNT, PAIRING_TTL_MS } from "@gateway/pairing";
import type { ChannelPlugin, SendResult } from "@gateway/plugin-sdk";
import { type ChannelsPairingApproveResult, type ChannelsPairingListResult, invalidRequest } from "@gateway/protocol";
import type { Logger } from "pino";
import { type AccountOwnership, AccountSupervisor, type DesiredAccount } from "./account-supervisor.js";
import { ChannelLogins } from "./channel-login.js";
import { ChannelStatusReporter } from "./channel-status.js";
import { accountConfigIssues, resolveAccounts } from "./channels-config.js";
import { ChannelDelivery, type DeliveryTarget, type ForwardSend } from "./delivery.js";
import { type ChannelAgentHost, InboundPipeline } from "./inbound-pipeline.js";
import { ChannelPluginRegistry, type LazyChannelPlugin } from "./plugin-registry.js";

/** Options of the channel manager. */
export interface ChannelManagerOptions {
  stateDir: string;
  logger: Logger;
  /** Plugins that ship with the gateway; a lazy one is imported when its channel is first configured. */
  builtins: ReadonlyArray<ChannelPlugin | LazyChannelPlugin>;
  host: ChannelAgentHost;
  /** Called when an account's status changes (the gateway refreshes its health). */
  onStatusChange?: () => void;
  /** Told of each message in (from a platform) and out (sent to one, `ok` false when the send failed). */
  onMessage?: (message: { direction: "in" | "out"; channel: string; accountId: string; ok: boolean }) => void;
  /** Backoff between restarts of a failed account. @default base 1 s, max 5 min */
  restartBackoff?: { baseMs?: number; maxMs?: number };
  /** How long `stop()` of one account may take. @default 10000 */
  stopTimeoutMs?: number;
  /** Fleet mode: accounts run only on the instance holding their lease (see `AccountOwnership`). */
  ownership?: AccountOwnership;
  /** Fleet mode: how a send for an account another instance runs reaches that instance. */
  forwardSend?: ForwardSend;
}

/**
 * The messaging channels of a gateway, composed of one part per concern: the plugin registry (built-ins, lazy ones,
 * `plugins:` entries), the account supervisor (start, isolate, restart with backoff, fatal stops, webhooks), the
 * inbound pipeline (dedupe, access control and DM pairing, debounce, the agent, the reply), delivery (messages that
 * answer nothing) and status. This class validates config edits and routes the gateway's calls to those parts.
 */
export class ChannelManager {
  readonly pairing: DmPairingStore;
  readonly registry: ChannelPluginRegistry;
  /** QR-style logins and logouts. */
  readonly logins: ChannelLogins;
  readonly #options: ChannelManagerOptions;
  readonly #supervisor: AccountSupervisor;
  readonly #pipeline: InboundPipeline;
  readonly #delivery: ChannelDelivery;
  readonly #status: ChannelStatusReporter;
  #configIssues: string[] = [];

  constructor(options: ChannelManagerOptions) {
    this.#options = options;
    const { logger } = options;
    this.pairing = new DmPairingStore(options.stateDir, {
      onProblem: (problem) =>
        logger.error(
          `${problem.path} could not be read (${problem.reason}); moved to ${problem.movedTo}. Approved senders must pair again.`,
        ),
    });
    this.registry = new ChannelPluginRegistry(options.builtins, (failure) =>
      logger.error(`channel plugin ${failure.origin}: ${failure.error}`),
    );
    this.#supervisor = new AccountSupervisor({
      stateDir: options.stateDir,
      logger,
      onInbound: (runtime, message) => {
        options.onMessage?.({ direction: "in", channel: runtime.channel, accountId: runtime.accountId, ok: true });
        this.#pipeline.receive(runtime, message);
      },
      onChange: () => options.onStatusChange?.(),
      ...(options.restartBackoff ? { restartBackoff: options.restartBackoff } : {}),
      ...(options.stopTimeoutMs !== undefined ? { stopTimeoutMs: options.stopTimeoutMs } : {}),
      ...(options.ownership ? { ownership: options.ownership } : {}),
    });
    this.#delivery = new ChannelDelivery(
      this.#supervisor,
      () => this.registry.setupHints().join("; "),
      (channel, accountId, ok) => options.onMessage?.({ direction: "out", channel, accountId, ok }),
      options.forwardSend,
    );
    this.#pipeline = new InboundPipeline({
      logger,
      pairing: this.pairing,
      host: options.host,
      send: (runtime, message) => this.#delivery.send(runtime, message),
      ...(options.ownership?.firstSeen ? { firstSeen: (key) => options.ownership!.firstSeen!(key) } : {}),
    });
    this.logins = new ChannelLogins(this.#supervisor);
    this.#status = new ChannelStatusReporter(this.#supervisor, this.registry, this.pairing, () => this.#configIssues);
  }

  // ---- config ---------------------------------------------------------------------------------------------------

  /** What is wrong with a `channels` section (each issue names its path); empty when it can run. */
  async validate(channels: Record<string, unknown> | undefined): Promise<string[]> {
    await this.registry.load(Object.keys(channels ?? {}));
    return this.#issues(channels);
  }

  #issues(channels: Record<string, unknown> | undefined): string[] {
    const issues: string[] = [];
    for (const [channel, section] of Object.entries(channels ?? {})) {
      const plugin = this.registry.get(channel);
      if (!plugin) {
        issues.push(
          `channels.${channel}: no channel plugin "${channel}" (available: ${this.registry.ids.join(", ") || "none"}; others load with plugins: ["<package or path>"])`,
        );
        continue;
      }
      for (const account of resolveAccounts(channel, section as Record<string, unknown>))
        issues.push(...accountConfigIssues(plugin, account));
    }
    return issues;
  }

  /**
   * At start: run the channels whose config is valid; the others stay off and their issues are in the warnings (a
   * config edit that fixes them starts them).
   */
  async applyValid(channels: Record<string, unknown> | undefined): Promise<void> {
    await this.registry.load(Object.keys(channels ?? {}));
    const valid: Record<string, unknown> = {};
    const issues: string[] = [];
    for (const [channel, section] of Object.entries(channels ?? {})) {
      const found = this.#issues({ [channel]: section });
      if (found.length) issues.push(...found);
      else valid[channel] = section;
    }
    await this.apply(valid);
    this.#configIssues = issues;
    for (const issue of issues)
      this.#options.logger.error(`${issue} — this channel stays off until the config is fixed`);
  }

  /**
   * Run what `channels` asks for: start new accounts, stop removed or disabled ones, restart those whose config
   * changed. Throws (and changes nothing) when the section is invalid.
   */
  async apply(channels: Record<string, unknown> | undefined): Promise<void> {
    const issues = await this.validate(channels);
    if (issues.length > 0) throw invalidRequest(`invalid channel config: ${issues.join("; ")}`);
    this.#configIssues = [];
    const desired = new Map<string, DesiredAccount>();
    for (const [channel, section] of Object.entries(channels ?? {}))
      for (const account of resolveAccounts(channel, section as Record<string, unknown>))
        desired.set(`${channel}:${account.accountId}`, { ...account, plugin: this.registry.get(channel)! });
    this.#supervisor.reconcile(desired);
  }

  /** Serve a webhook request under `/channels/…`; false when no account mounted that path. */
  handleHttp(...args: Parameters<AccountSupervisor["handleHttp"]>): Promise<boolean> {
    return this.#supervisor.handleHttp(...args);
  }

  /** Stop every account (shutdown) and finish writing the pairing store. */
  async stop(): Promise<void> {
    this.#pipeline.stop();
    await this.#supervisor.stop();
    await this.pairing.flush();
  }

  // ---- delivery -------------------------------------------------------------------------------------------------

  checkTarget(target: { channel: string; accountId?: string; peer?: string }): void {
    this.#delivery.checkTarget(target);
  }

  /** Send text to a chat (`here: true`: only through an account running on this instance, never forwarded). */
  deliver(
    target: DeliveryTarget,
    text: string,
    options: { here?: boolean } = {},
  ): Promise<SendResult & { channel: string; accountId: string }> {
    return this.#delivery.deliver(target, text, options);
  }

  // ---- DM pairing -----------------------------------------------------------------------------------------------

  pairingList(filter: { channel?: string; accountId?: string } = {}): ChannelsPairingListResult {
    const iso = (ms: number) => new Date(ms).toISOString();
    const label = (channel: string) => this.registry.label(channel);
    return {
      accounts: this.#supervisor.accounts
        .filter(
          (runtime) =>
            (!filter.channel || runtime.channel === filter.channel) &&
            (!filter.accountId || runtime.accountId === filter.accountId),
        )
        .map((runtime) => ({
          channel: runtime.channel,
          channelLabel: label(runtime.channel),
          accountId: runtime.accountId,
          notifySupported: true,
        })),
      requests: this.pairing.list(filter).map((request) => ({
        requestId: request.code,
        channel: request.channel,
        channelLabel: label(request.channel),
        accountId: request.accountId,
        senderId: request.senderId,
        senderLabel: request.senderName,
        createdAt: iso(request.createdAt),
        lastSeenAt: iso(request.lastSeenAt),
        expiresAt: iso(request.expiresAt),
        notifySupported: true,
      })),
      commandOwnerConfigured: false,
      limits: { pendingPerAccount: PAIRING_PENDING_PER_ACCOUNT, ttlMs: PAIRING_TTL_MS },
    };
  }

  async pairingApprove(params: {
    channel: string;
    accountId?: string;
    requestId: string;
    notify?: boolean;
  }): Promise<ChannelsPairingApproveResult> {
    const request = await this.pairing.approve(params.channel, params.requestId, params.accountId);
    if (!request)
      throw invalidRequest(
        `no pending pairing code "${params.requestId}" for ${params.channel}${params.accountId ? `:${params.accountId}` : ""} (codes expire after 1 hour; see gateway pairing list ${params.channel})`,
      );
    this.#options.logger.info(
      `${request.channel}:${request.accountId}: ${request.senderName} (${request.senderId}) approved by pairing code`,
    );
    let notification: ChannelsPairingApproveResult["notification"] = "not-requested";
    if (params.notify) {
      const runtime = this.#supervisor.get(request.channel, request.accountId);
      notification = runtime
        ? await this.#delivery
            .send(runtime, {
              peer: request.peer,
              text: "You're approved: your messages now reach the agent. Send your message again.",
            })
            .then(
              () => "sent" as const,
              () => "failed" as const,
            )
        : "failed";
    }
    return {
      requestId: request.code,
      senderId: request.senderId,
      notification,
      commandOwnerBootstrap: "not-requested",
    };
  }

  // ---- status ---------------------------------------------------------------------------------------------------

  status(params: { probe?: boolean; timeoutMs?: number; channel?: string } = {}) {
    return this.#status.status(params);
  }

  health(): Record<string, unknown> {
    return this.#status.health();
  }

  warnings(): string[] {
    return this.#status.warnings();
  }
}
