import { mkdirSync } from "node:fs";
import type { ServerResponse } from "node:http";
import { join } from "node:path";
import { type AccessPolicy, accessPolicy } from "@gateway/pairing";
import {
  backoffDelay,
  type ChannelAccount,
  type ChannelContext,
  type ChannelHttpRoute,
  type ChannelPlugin,
  type ChannelStatus,
  type InboundMessage,
  isFatal,
} from "@gateway/plugin-sdk";
import type { Logger } from "pino";
import type { ResolvedAccount } from "./channels-config.js";

/** Where an account is in its life. */
export type AccountState = "standby" | "starting" | "connected" | "reconnecting" | "backoff" | "fatal" | "stopped";

/** This instance's right to run an account while other instances could (a lease with a fencing token). */
export interface AccountLease {
  readonly fence: number;
  /** Whether it is surely still ours: checked before each inbound message is taken in. */
  held(): boolean;
  /** Resolves with the reason once another instance may own the account. */
  readonly lost: Promise<string>;
  release(): Promise<void>;
}

/**
 * Where accounts run when several gateway instances share them (`@gateway/fleet`): an account starts only once this
 * instance holds its lease, stands by while another does, and stops the moment its lease is lost. Without it every
 * account runs here.
 */
export interface AccountOwnership {
  /** Wait until this instance may run the account `key` (`<channel>:<account>`); undefined once `signal` aborts. */
  acquire(key: string, signal: AbortSignal): Promise<AccountLease | undefined>;
  /** True exactly once across the fleet for an inbound message key (platforms redeliver to a new owner). */
  firstSeen?(key: string): Promise<boolean>;
}

/** One configured account and everything the gateway keeps about it. */
export interface AccountRuntime {
  readonly key: string;
  readonly channel: string;
  readonly accountId: string;
  plugin: ChannelPlugin;
  config: ResolvedAccount["config"];
  configJson: string;
  policy: AccessPolicy;
  account: ChannelAccount | undefined;
  /** An instance made for a QR login while the account does not run (see ChannelLogins). */
  loginAccount?: ChannelAccount | undefined;
  status: ChannelStatus & { lastStartAt: number | null; lastStopAt: number | null; lastProbeAt?: number | null };
  state: AccountState;
  /** Bumped on every start/stop: callbacks of an older start are ignored. */
  generation: number;
  controller: AbortController | undefined;
  restartTimer: NodeJS.Timeout | undefined;
  attempts: number;
  probe?: { ok: boolean; detail?: string };
  /** The lease this instance runs the account under (fleet mode only). */
  lease?: AccountLease | undefined;
}

/** An account the config asks for, with the plugin that runs it. */
export interface DesiredAccount extends ResolvedAccount {
  plugin: ChannelPlugin;
}

/** Options of the supervisor. */
export interface AccountSupervisorOptions {
  stateDir: string;
  logger: Logger;
  /** A message an account received (already tagged with its channel and account). */
  onInbound(runtime: AccountRuntime, message: InboundMessage): void;
  /** Something about an account changed (status, state). */
  onChange(): void;
  /** Backoff between restarts of a failed account. @default base 1 s, max 5 min */
  restartBackoff?: { baseMs?: number; maxMs?: number };
  /** How long `stop()` of one account may take. @default 10000 */
  stopTimeoutMs?: number;
  /** Fleet mode: run an account only while this instance holds its lease. */
  ownership?: AccountOwnership;
}

const emptyStatus = (): AccountRuntime["status"] => ({
  configured: true,
  running: false,
  connected: false,
  fatal: false,
  lastError: null,
  reconnectAttempts: 0,
  lastConnectedAt: null,
  lastInboundAt: null,
  lastOutboundAt: null,
  lastStartAt: null,
  lastStopAt: null,
});

/**
 * Runs the accounts the config asks for, each isolated: a plugin throwing at start or later is restarted with
 * backoff, a fatal error leaves the account stopped with the reason (a config change gives it a fresh start), and a
 * config change restarts only the accounts whose settings changed. It owns each account's context (state dir,
 * logger, abort signal, webhooks) and drops whatever an account's older start left behind.
 */
export class AccountSupervisor {
  readonly #options: AccountSupervisorOptions;
  readonly #accounts = new Map<string, AccountRuntime>();
  readonly #routes = new Map<string, { route: ChannelHttpRoute; runtime: AccountRuntime; generation: number }>();
  #stopped = false;

  constructor(options: AccountSupervisorOptions) {
    this.#options = options;
  }

  get accounts(): AccountRuntime[] {
    return [...this.#accounts.values()];
  }

  get(channel: string, accountId: string): AccountRuntime | undefined {
    return this.#accounts.get(`${channel}:${accountId}`);
  }

  /** Start new accounts, stop removed ones, restart those whose config changed (a fatal one gets a fresh start). */
  reconcile(desired: ReadonlyMap<string, DesiredAccount>): void {
    for (const [key, runtime] of this.#accounts) {
      if (desired.has(key)) continue;
      this.#accounts.delete(key);
      void this.#stop(runtime).then(() => this.#options.logger.info(`${key}: removed from the config, stopped`));
    }
    for (const [key, wanted] of desired) {
      const configJson = JSON.stringify(wanted.config);
      const existing = this.#accounts.get(key);
      if (existing && existing.configJson === configJson) continue;
      if (existing) {
        this.#options.logger.info(`${key}: config changed, restarting`);
        existing.config = wanted.config;
        existing.configJson = configJson;
        existing.policy = accessPolicy(wanted.config);
        existing.plugin = wanted.plugin;
        existing.attempts = 0;
        void this.#stop(existing).then(() => this.#start(existing));
        continue;
      }
      const runtime: AccountRuntime = {
        key,
        channel: wanted.channel,
        accountId: wanted.accountId,
        plugin: wanted.plugin,
        config: wanted.config,
        configJson,
        policy: accessPolicy(wanted.config),
        account: undefined,
        status: emptyStatus(),
        state: "stopped",
        generation: 0,
        controller: undefined,
        restartTimer: undefined,
        attempts: 0,
      };
      this.#accounts.set(key, runtime);
      void this.#start(runtime);
    }
    this.#options.onChange();
  }

  /** Stop and start an account now (its login just completed), with a fresh backoff. */
  restart(runtime: AccountRuntime): void {
    runtime.attempts = 0;
    void this.#stop(runtime).then(() => this.#start(runtime));
  }

  /** Stop an account and keep it stopped until the config changes (a logout). */
  stopAccount(runtime: AccountRuntime): Promise<void> {
    return this.#stop(runtime);
  }

  async #start(runtime: AccountRuntime): Promise<void> {
    if (this.#stopped) return;
    const generation = ++runtime.generation;
    clearTimeout(runtime.restartTimer);
    runtime.controller = new AbortController();
    // A plugin whose platform spreads events over several connections runs on every instance (it claims each event).
    if (this.#options.ownership && !runtime.lease && runtime.plugin.instances !== "many") {
      if (!(await this.#acquire(runtime, generation, this.#options.ownership))) return;
    }
    runtime.state = "starting";
    runtime.status = { ...runtime.status, fatal: false, lastStartAt: Date.now() };
    this.#options.onChange();
    try {
      const account = runtime.plugin.createAccount(runtime.accountId, runtime.config);
      runtime.account = account;
      await account.start(this.#context(runtime, generation));
      if (generation !== runtime.generation) return;
      runtime.attempts = 0;
      runtime.state = "connected";
      runtime.status = { ...runtime.status, running: true, reconnectAttempts: 0 };
      this.#options.onChange();
    } catch (error) {
      this.#failed(runtime, error, generation);
    }
  }

  /** Stand by until this instance holds the account's lease; false when the wait was called off. */
  async #acquire(runtime: AccountRuntime, generation: number, ownership: AccountOwnership): Promise<boolean> {
    runtime.state = "standby";
    this.#options.onChange();
    const signal = runtime.controller!.signal;
    const lease = await ownership.acquire(runtime.key, signal).catch((error: unknown) => {
      this.#options.logger.warn({ err: error }, `${runtime.key}: could not take the account's lease`);
      return undefined;
    });
    if (!lease) {
      // Called off (a stop, a config change) — or the lease store failed: try again after a backoff.
      if (!signal.aborted && generation === runtime.generation && !this.#stopped) {
        runtime.restartTimer = setTimeout(() => void this.#start(runtime), 1_000);
        runtime.restartTimer.unref();
      }
      return false;
    }
    if (generation !== runtime.generation || this.#stopped) {
      await lease.release().catch(() => {});
      return false;
    }
    runtime.lease = lease;
    this.#options.logger.info(`${runtime.key}: this instance runs the account now (fencing token ${lease.fence})`);
    void lease.lost.then((reason) => {
      if (runtime.lease !== lease) return;
      runtime.lease = undefined;
      if (this.#stopped || reason === "released") return;
      this.#options.logger.warn(`${runtime.key}: stopped here: ${reason}; standing by`);
      void this.#stop(runtime).then(() => this.#start(runtime));
    });
    return true;
  }

  /** An account failed (at start or later): fatal → stays stopped with the reason; else restart with backoff. */
  #failed(runtime: AccountRuntime, error: unknown, generation: number): void {
    if (generation !== runtime.generation || this.#stopped) return;
    const message = error instanceof Error ? error.message : String(error);
    const account = runtime.account;
    runtime.generation++;
    runtime.controller?.abort();
    this.#dropRoutes(runtime);
    void this.#settle(account?.stop(), runtime.key);
    runtime.status = { ...runtime.status, running: false, connected: false, lastError: message };
    if (isFatal(error)) {
      runtime.state = "fatal";
      runtime.status.fatal = true;
      this.#options.logger.error(`${runtime.key} stopped: ${message} (fix the config; a config change restarts it)`);
    } else {
      runtime.attempts++;
      runtime.state = "backoff";
      runtime.status.reconnectAttempts = runtime.attempts;
      const delay = backoffDelay(runtime.attempts, {
        baseMs: this.#options.restartBackoff?.baseMs ?? 1_000,
        maxMs: this.#options.restartBackoff?.maxMs ?? 300_000,
      });
      this.#options.logger.warn(`${runtime.key} failed: ${message} — restarting in ${Math.round(delay / 100) / 10} s`);
      runtime.restartTimer = setTimeout(() => void this.#start(runtime), delay);
      runtime.restartTimer.unref();
    }
    this.#options.onChange();
  }

  async #stop(runtime: AccountRuntime): Promise<void> {
    runtime.generation++;
    clearTimeout(runtime.restartTimer);
    runtime.controller?.abort();
    this.#dropRoutes(runtime);
    const account = runtime.account;
    runtime.account = undefined;
    await this.#settle(account?.stop(), runtime.key);
    // Only once the account has stopped may another instance start it.
    const lease = runtime.lease;
    runtime.lease = undefined;
    await lease?.release().catch(() => {});
    runtime.state = "stopped";
    runtime.status = { ...runtime.status, running: false, connected: false, lastStopAt: Date.now() };
    this.#options.onChange();
  }

  /** Wait for a plugin's promise, bounded, never throwing. */
  async #settle(promise: Promise<unknown> | undefined, key: string): Promise<void> {
    if (!promise) return;
    let timer: NodeJS.Timeout | undefined;
    const limit = this.#options.stopTimeoutMs ?? 10_000;
    await Promise.race([
      promise.catch((error: unknown) => this.#options.logger.warn({ err: error }, `${key}: stop failed`)),
      new Promise<void>((resolve) => {
        timer = setTimeout(() => {
          this.#options.logger.warn(`${key}: stop took longer than ${limit} ms; moving on`);
          resolve();
        }, limit);
      }),
    ]);
    clearTimeout(timer);
  }

  #context(runtime: AccountRuntime, generation: number): ChannelContext {
    const current = () => generation === runtime.generation && !this.#stopped;
    const stateDir = join(this.#options.stateDir, "channels", runtime.channel, runtime.accountId);
    mkdirSync(stateDir, { recursive: true, mode: 0o700 });
    const logger = this.#options.logger.child({ channel: runtime.channel, account: runtime.accountId });
    const firstSeen = this.#options.ownership?.firstSeen?.bind(this.#options.ownership);
    return {
      channel: runtime.channel,
      accountId: runtime.accountId,
      config: runtime.config,
      logger,
      signal: runtime.controller!.signal,
      stateDir,
      receive: (message) => {
        if (!current()) return;
        // A lease that may have passed on: the new owner takes this message in (the platform redelivers it).
        if (runtime.lease && !runtime.lease.held()) {
          logger.debug("inbound message left to the account's new owner");
          return;
        }
        try {
          this.#options.onInbound(runtime, { ...message, channel: runtime.channel, accountId: runtime.accountId });
        } catch (error) {
          logger.error({ err: error }, "inbound message failed");
        }
      },
      setStatus: (patch) => {
        if (!current()) return;
        runtime.status = { ...runtime.status, ...patch };
        if (patch.connected === true && runtime.state !== "starting") runtime.state = "connected";
        if (patch.connected === false && runtime.state === "connected") runtime.state = "reconnecting";
        this.#options.onChange();
      },
      reportError: (error) => this.#failed(runtime, error, generation),
      registerHttpRoute: (route) => {
        const path = `/channels/${runtime.channel}/${runtime.accountId}/${route.path.replace(/^\/+/, "")}`;
        this.#routes.set(`${route.method} ${path}`, { route, runtime, generation });
        return path;
      },
      ...(firstSeen ? { claimOnce: (key: string) => firstSeen(`${runtime.key}:claim:${key}`) } : {}),
    };
  }

  #dropRoutes(runtime: AccountRuntime): void {
    for (const [key, entry] of this.#routes) if (entry.runtime === runtime) this.#routes.delete(key);
  }

  /**
   * Serve a request under `/channels/…` with the route an account mounted, as a web `Request` with the body as it
   * came (signatures are over the raw bytes); false when no route is mounted there.
   */
  async handleHttp(
    method: string,
    path: string,
    request: { headers: Record<string, string | string[] | undefined>; body: Buffer | undefined },
    response: ServerResponse,
  ): Promise<boolean> {
    const entry = this.#routes.get(`${method} ${path}`);
    if (!entry || entry.generation !== entry.runtime.generation) return false;
    const headers = new Headers();
    for (const [name, value] of Object.entries(request.headers)) {
      if (Array.isArray(value)) for (const item of value) headers.append(name, item);
      else if (value !== undefined) headers.set(name, value);
    }
    const web = new Request(`http://${headers.get("host") ?? "localhost"}${path}`, {
      method,
      headers,
      ...(method !== "GET" && request.body ? { body: new Uint8Array(request.body) } : {}),
    });
    const answer = await entry.route.handle(web);
    const outgoing: Record<string, string> = {};
    answer.headers.forEach((value, name) => {
      outgoing[name] = value;
    });
    response.writeHead(answer.status, outgoing).end(Buffer.from(await answer.arrayBuffer()));
    return true;
  }

  /** Stop every account (shutdown); nothing starts afterwards. */
  async stop(): Promise<void> {
    await Promise.all(this.accounts.map((runtime) => this.#stop(runtime)));
    this.#stopped = true;
  }
}
