import type { DmPairingStore } from "@gateway/pairing";
import type { ChannelAccountStatus, ChannelsStatusResult } from "@gateway/protocol";
import type { AccountRuntime, AccountSupervisor } from "./account-supervisor.js";
import type { ChannelPluginRegistry } from "./plugin-registry.js";

/** Every account's state as `channels.status`, `health` and the warnings show it, probed on demand. */
export class ChannelStatusReporter {
  constructor(
    private readonly supervisor: AccountSupervisor,
    private readonly registry: ChannelPluginRegistry,
    private readonly pairing: DmPairingStore,
    private readonly configIssues: () => readonly string[],
  ) {}

  account(runtime: AccountRuntime): ChannelAccountStatus {
    const { status } = runtime;
    return {
      accountId: runtime.accountId,
      enabled: runtime.config.enabled !== false,
      configured: status.configured,
      running: status.running,
      connected: status.connected,
      reconnectAttempts: status.reconnectAttempts,
      lastConnectedAt: status.lastConnectedAt,
      lastError: status.lastError,
      healthState: runtime.state,
      lastStartAt: status.lastStartAt,
      lastStopAt: status.lastStopAt,
      lastInboundAt: status.lastInboundAt,
      lastOutboundAt: status.lastOutboundAt,
      ...(status.mode ? { mode: status.mode } : {}),
      ...(status.linked !== undefined ? { linked: status.linked } : {}),
      ...(status.details ? { details: status.details } : {}),
      dmPolicy: runtime.config.dmPolicy ?? "pairing",
      allowFrom: [...(runtime.config.allowFrom ?? []), ...this.pairing.approved(runtime.channel, runtime.accountId)],
      ...(status.lastProbeAt !== undefined ? { lastProbeAt: status.lastProbeAt } : {}),
      ...(runtime.probe ? { probe: runtime.probe } : {}),
    };
  }

  /** `channels.status`: every account, optionally probed now (each probe bounded by `timeoutMs`). */
  async status(params: { probe?: boolean; timeoutMs?: number; channel?: string } = {}): Promise<ChannelsStatusResult> {
    const runtimes = this.supervisor.accounts.filter(
      (runtime) => !params.channel || runtime.channel === params.channel,
    );
    if (params.probe) await Promise.all(runtimes.map((runtime) => this.#probe(runtime, params.timeoutMs ?? 10_000)));
    const channelOrder = [...new Set(runtimes.map((runtime) => runtime.channel))];
    const result: ChannelsStatusResult = {
      ts: Date.now(),
      channelOrder,
      channelLabels: {},
      channels: {},
      channelAccounts: {},
      channelDefaultAccountId: {},
    };
    for (const channel of channelOrder) {
      const accounts = runtimes.filter((runtime) => runtime.channel === channel);
      result.channelLabels[channel] = this.registry.label(channel);
      result.channelAccounts[channel] = accounts.map((runtime) => this.account(runtime));
      result.channels[channel] = {
        configured: accounts.some((runtime) => runtime.status.configured),
        running: accounts.some((runtime) => runtime.status.running),
        connected: accounts.some((runtime) => runtime.status.connected),
      };
      result.channelDefaultAccountId[channel] =
        accounts.find((runtime) => runtime.accountId === "default")?.accountId ?? accounts[0]!.accountId;
    }
    const warnings = this.warnings();
    if (warnings.length) result.warnings = warnings;
    return result;
  }

  async #probe(runtime: AccountRuntime, timeoutMs: number): Promise<void> {
    const account = runtime.account;
    if (!account?.probe) return;
    let timer: NodeJS.Timeout | undefined;
    runtime.probe = await Promise.race([
      account.probe().catch((error: Error) => ({ ok: false, detail: error.message })),
      new Promise<{ ok: boolean; detail: string }>((resolve) => {
        timer = setTimeout(() => resolve({ ok: false, detail: `no answer within ${timeoutMs} ms` }), timeoutMs);
      }),
    ]);
    clearTimeout(timer);
    runtime.status.lastProbeAt = Date.now();
  }

  /** The `channels`, `channelOrder`, `channelLabels` and `plugins` sections of the health snapshot. */
  health(): Record<string, unknown> {
    const channels: Record<string, { accounts: Record<string, ChannelAccountStatus> }> = {};
    for (const runtime of this.supervisor.accounts) {
      channels[runtime.channel] ??= { accounts: {} };
      channels[runtime.channel]!.accounts[runtime.accountId] = this.account(runtime);
    }
    return {
      channels,
      channelOrder: Object.keys(channels),
      channelLabels: Object.fromEntries(
        Object.keys(channels).map((channel) => [channel, this.registry.label(channel)]),
      ),
      plugins: { loaded: this.registry.loaded.map((plugin) => plugin.id), errors: this.registry.failures },
    };
  }

  /** Lines for `status`/`health`: nothing configured (and how to), fatal accounts, accounts reconnecting. */
  warnings(): string[] {
    const accounts = this.supervisor.accounts;
    const issues = this.configIssues();
    if (accounts.length === 0 && issues.length === 0) {
      const hints = this.registry.setupHints();
      return [
        `no channels configured — to talk to the agent from a chat app: ${hints.join("; ") || "add a channel plugin"}`,
      ];
    }
    const lines: string[] = [];
    for (const runtime of accounts) {
      if (runtime.state === "fatal") lines.push(`${runtime.key} stopped: ${runtime.status.lastError}`);
      else if (runtime.state === "backoff" || runtime.state === "reconnecting")
        lines.push(
          `${runtime.key} reconnecting (attempt ${runtime.status.reconnectAttempts})${runtime.status.lastError ? `: ${runtime.status.lastError}` : ""}`,
        );
    }
    for (const failure of this.registry.failures) lines.push(`channel plugin ${failure.origin}: ${failure.error}`);
    for (const issue of issues) lines.push(`${issue} (the channel is off)`);
    return lines;
  }
}
