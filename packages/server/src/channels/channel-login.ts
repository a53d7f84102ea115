import type { ChannelAccount, ChannelLoginState } from "@gateway/plugin-sdk";
import { invalidRequest, type WebLoginResult } from "@gateway/protocol";
import type { AccountRuntime, AccountSupervisor } from "./account-supervisor.js";

/**
 * QR-style logins (`web.login.start`/`wait`) and `channels.logout`: the account is the one named, or the only one
 * whose plugin can log in. A login that completes restarts the account on its new credentials.
 */
export class ChannelLogins {
  constructor(private readonly supervisor: AccountSupervisor) {}

  /** The accounts that can log in (their plugin implements `loginStart`). */
  #candidates(accountId: string | undefined): AccountRuntime[] {
    return this.supervisor.accounts.filter(
      (runtime) =>
        (accountId === undefined || runtime.accountId === accountId) &&
        typeof this.#instance(runtime).loginStart === "function",
    );
  }

  /** The running instance, or one made for the login (an account that is stopped or fatal: "not linked"). */
  #instance(runtime: AccountRuntime): ChannelAccount {
    runtime.loginAccount ??= runtime.account ?? runtime.plugin.createAccount(runtime.accountId, runtime.config);
    return runtime.loginAccount;
  }

  #resolve(accountId: string | undefined): AccountRuntime {
    const candidates = this.#candidates(accountId);
    if (candidates.length === 0)
      throw invalidRequest(
        accountId
          ? `no account "${accountId}" can log in (QR logins are for WhatsApp: configure channels.whatsapp first)`
          : "no configured channel logs in with a QR code: configure channels.whatsapp first",
      );
    const withDefault = candidates.find((runtime) => runtime.accountId === "default");
    if (!accountId && candidates.length > 1 && !withDefault)
      throw invalidRequest(
        `say which account logs in (accountId): ${candidates.map((runtime) => runtime.key).join(", ")}`,
      );
    return accountId ? candidates[0]! : (withDefault ?? candidates[0]!);
  }

  async start(params: {
    accountId?: string;
    force?: boolean;
    timeoutMs?: number;
    phoneNumber?: string;
  }): Promise<WebLoginResult> {
    const runtime = this.#resolve(params.accountId);
    const state = await this.#instance(runtime).loginStart!({
      ...(params.force !== undefined ? { force: params.force } : {}),
      ...(params.phoneNumber ? { phoneNumber: params.phoneNumber } : {}),
      ...(params.timeoutMs !== undefined ? { timeoutMs: params.timeoutMs } : {}),
    });
    return this.#settled(runtime, state);
  }

  async wait(params: { accountId?: string; timeoutMs?: number }): Promise<WebLoginResult> {
    const runtime = this.#resolve(params.accountId);
    const account = this.#instance(runtime);
    if (!account.loginWait) throw invalidRequest(`${runtime.key} has no login in progress: call web.login.start`);
    const state = await account.loginWait({ timeoutMs: params.timeoutMs ?? 120_000 });
    return this.#settled(runtime, state);
  }

  /** A completed login: the account starts again on its credentials (the login's own socket is done). */
  async #settled(runtime: AccountRuntime, state: ChannelLoginState): Promise<WebLoginResult> {
    if (state.connected) {
      runtime.loginAccount = undefined;
      this.supervisor.restart(runtime);
    }
    return {
      connected: state.connected,
      message: state.message,
      ...(state.qrDataUrl ? { qrDataUrl: state.qrDataUrl } : {}),
      ...(state.qr ? { qr: state.qr } : {}),
      ...(state.pairingCode ? { pairingCode: state.pairingCode } : {}),
    };
  }

  /** Forget an account's stored login (it stops); `cleared` says whether there was one. */
  async logout(channel: string, accountId?: string): Promise<{ channel: string; accountId: string; cleared: boolean }> {
    const runtime = this.supervisor.accounts.find(
      (candidate) => candidate.channel === channel && (accountId ? candidate.accountId === accountId : true),
    );
    if (!runtime)
      throw invalidRequest(
        `channel "${channel}"${accountId ? ` has no account "${accountId}"` : " is not configured"}`,
      );
    const account = this.#instance(runtime);
    if (!account.logout)
      throw invalidRequest(`${runtime.channel} keeps no login to clear (remove its token from the config instead)`);
    const cleared = await account.logout();
    runtime.loginAccount = undefined;
    if (cleared) await this.supervisor.stopAccount(runtime);
    return { channel: runtime.channel, accountId: runtime.accountId, cleared };
  }
}
