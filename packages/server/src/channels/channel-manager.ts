import { mkdirSync } from "node:fs";
import type { ServerResponse } from "node:http";
import { join } from "node:path";
import {
  backoffDelay,
  CHANNEL_SPECIFICATION_VERSION,
  type ChannelAccount,
  type ChannelContext,
  type ChannelHttpRoute,
  type ChannelPlugin,
  type ChannelStatus,
  type InboundMessage,
  isFatal,
  type SendResult,
} from "@gateway/plugin-sdk";
import {
  type ChannelAccountStatus,
  type ChannelsPairingApproveResult,
  type ChannelsPairingListResult,
  type ChannelsStatusResult,
  invalidRequest,
  unavailable,
} from "@gateway/protocol";
import type { Logger } from "pino";
import { decideAccess } from "./access-control.js";
import { accountConfigIssues, type ResolvedAccount, resolveAccounts } from "./channels-config.js";
import { PAIRING_PENDING_PER_ACCOUNT, PAIRING_TTL_MS, PairingStore } from "./pairing-store.js";

/** A message that passed access control, with what the agent should read. */
export interface AcceptedMessage {
  /** The last message of the burst (the reply answers it). */
  inbound: InboundMessage;
  /** The burst's texts, earlier unanswered group messages as context, and media references. */
  text: string;
}

/** What the manager needs from the gateway: the agent. */
export interface ChannelAgentHost {
  /** Run the agent on a message; resolves with the reply to send back (empty: nothing to send). */
  run(message: AcceptedMessage): Promise<string | undefined>;
}

/** Where a message goes. */
export interface DeliveryTarget {
  /** Omitted: the only configured channel (an error names them when there are several). */
  channel?: string;
  accountId?: string;
  peer: string;
  threadId?: string;
  replyToMessageId?: string;
}

/** Options of the channel manager. */
export interface ChannelManagerOptions {
  stateDir: string;
  logger: Logger;
  /** Plugins that ship with the gateway; a lazy one is imported when its channel is first configured. */
  builtins: ReadonlyArray<ChannelPlugin | LazyChannelPlugin>;
  host: ChannelAgentHost;
  /** Called when an account's status changes (the gateway refreshes its health). */
  onStatusChange?: () => void;
  /** Backoff between restarts of a failed account. @default base 1 s, max 5 min */
  restartBackoff?: { baseMs?: number; maxMs?: number };
  /** How long `stop()` of one account may take. @default 10000 */
  stopTimeoutMs?: number;
}

/** A built-in plugin imported only when a config uses it (its library costs nothing otherwise). */
export interface LazyChannelPlugin {
  id: string;
  load(): Promise<ChannelPlugin>;
}

type HealthState = "starting" | "connected" | "reconnecting" | "backoff" | "fatal" | "stopped" | "invalid";

interface AccountRuntime {
  channel: string;
  accountId: string;
  plugin: ChannelPlugin;
  config: ResolvedAccount["config"];
  configJson: string;
  account: ChannelAccount | undefined;
  status: ChannelStatus & { lastStartAt: number | null; lastStopAt: number | null; lastProbeAt?: number | null };
  state: HealthState;
  /** Bumped on every start/stop: callbacks of an older start are ignored. */
  generation: number;
  controller: AbortController | undefined;
  restartTimer: NodeJS.Timeout | undefined;
  attempts: number;
  probe?: { ok: boolean; detail?: string };
}

const TYPING_INTERVAL_MS = 4_500;
const DEDUPE_LIMIT = 10_000;

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

/** A media reference as the agent reads it. */
const mediaLine = (media: NonNullable<InboundMessage["media"]>[number]) =>
  `[${media.kind}${media.fileName ? ` "${media.fileName}"` : ""}${media.mimeType ? ` (${media.mimeType})` : ""}: ${media.path ?? "not downloaded (too large)"}]`;

const senderLabel = (sender: InboundMessage["sender"]) =>
  sender.name || (sender.username ? `@${sender.username}` : sender.id);

/**
 * Runs the channel accounts: loads plugins, starts every enabled account, isolates failures (a plugin throwing at
 * start or later is restarted with backoff; a fatal error stays in status without a retry loop), restarts only the
 * accounts whose config changed, and carries inbound messages through access control (DM pairing/allowlist, group
 * policy and mention gating), dedupe and burst debounce to the agent, and the reply back to the chat it came from.
 */
export class ChannelManager {
  readonly pairing: PairingStore;
  readonly #options: ChannelManagerOptions;
  readonly #plugins = new Map<string, ChannelPlugin>();
  readonly #lazy = new Map<string, LazyChannelPlugin>();
  readonly #pluginErrors: Array<{
    id: string;
    origin: string;
    activated: boolean;
    failurePhase?: string;
    error: string;
  }> = [];
  readonly #accounts = new Map<string, AccountRuntime>();
  readonly #routes = new Map<string, { route: ChannelHttpRoute; runtime: AccountRuntime; generation: number }>();
  readonly #seen = new Map<string, number>();
  readonly #bursts = new Map<string, { messages: InboundMessage[]; timer: NodeJS.Timeout; runtime: AccountRuntime }>();
  readonly #history = new Map<string, string[]>();
  #stopped = false;
  #configIssues: string[] = [];

  constructor(options: ChannelManagerOptions) {
    this.#options = options;
    this.pairing = new PairingStore(options.stateDir);
    if (this.pairing.corruptFile)
      options.logger.error(
        `${this.pairing.path} could not be read (${this.pairing.corruptFile.error}); moved to ${this.pairing.corruptFile.path}. Approved senders must pair again.`,
      );
    for (const plugin of options.builtins) {
      if ("load" in plugin) this.#lazy.set(plugin.id, plugin);
      else this.#plugins.set(plugin.id, plugin);
    }
  }

  /** Import the lazy built-ins a `channels` section names. */
  async #loadLazy(channels: Record<string, unknown> | undefined): Promise<void> {
    for (const channel of Object.keys(channels ?? {})) {
      const lazy = this.#lazy.get(channel);
      if (!lazy || this.#plugins.has(channel)) continue;
      try {
        this.#plugins.set(channel, await lazy.load());
      } catch (error) {
        this.pluginFailed(`built-in ${channel}`, error as Error);
      }
      this.#lazy.delete(channel);
    }
  }

  // ---- plugins and config ---------------------------------------------------------------------------------------

  /** Add a plugin (a loaded `plugins:` entry). A second plugin with a taken id is refused. */
  addPlugin(plugin: unknown, origin: string): void {
    const problem = pluginProblem(plugin);
    if (problem) {
      this.#pluginErrors.push({ id: origin, origin, activated: false, failurePhase: "validate", error: problem });
      this.#options.logger.error(`channel plugin ${origin}: ${problem}`);
      return;
    }
    const valid = plugin as ChannelPlugin;
    if (this.#plugins.has(valid.id)) {
      const error = `a channel plugin with id "${valid.id}" is already loaded`;
      this.#pluginErrors.push({ id: valid.id, origin, activated: false, failurePhase: "register", error });
      this.#options.logger.error(`channel plugin ${origin}: ${error}`);
      return;
    }
    this.#plugins.set(valid.id, valid);
  }

  /** A plugin that could not be loaded at all. */
  pluginFailed(origin: string, error: Error): void {
    this.#pluginErrors.push({ id: origin, origin, activated: false, failurePhase: "load", error: error.message });
    this.#options.logger.error(`channel plugin ${origin} failed to load: ${error.message}`);
  }

  get plugins(): ChannelPlugin[] {
    return [...this.#plugins.values()];
  }

  /** What is wrong with a `channels` section (each issue names its path); empty when it can run. */
  async validate(channels: Record<string, unknown> | undefined): Promise<string[]> {
    await this.#loadLazy(channels);
    return this.#issues(channels);
  }

  #issues(channels: Record<string, unknown> | undefined): string[] {
    const issues: string[] = [];
    for (const [channel, section] of Object.entries(channels ?? {})) {
      const plugin = this.#plugins.get(channel);
      if (!plugin) {
        issues.push(
          `channels.${channel}: no channel plugin "${channel}" (available: ${[...this.#plugins.keys(), ...this.#lazy.keys()].join(", ") || "none"}; others load with plugins: ["<package or path>"])`,
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
    await this.#loadLazy(channels);
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
   * changed (a fatal one gets a fresh start). Throws (and changes nothing) when the section is invalid.
   */
  async apply(channels: Record<string, unknown> | undefined): Promise<void> {
    const issues = await this.validate(channels);
    if (issues.length > 0) throw invalidRequest(`invalid channel config: ${issues.join("; ")}`);
    this.#configIssues = [];
    const desired = new Map<string, ResolvedAccount>();
    for (const [channel, section] of Object.entries(channels ?? {}))
      for (const account of resolveAccounts(channel, section as Record<string, unknown>))
        desired.set(`${channel}:${account.accountId}`, account);
    for (const [key, runtime] of this.#accounts) {
      if (!desired.has(key)) {
        this.#accounts.delete(key);
        void this.#stopAccount(runtime).then(() =>
          this.#options.logger.info(`${key}: removed from the config, stopped`),
        );
      }
    }
    for (const [key, wanted] of desired) {
      const configJson = JSON.stringify(wanted.config);
      const existing = this.#accounts.get(key);
      if (existing && existing.configJson === configJson) continue;
      const plugin = this.#plugins.get(wanted.channel)!;
      if (existing) {
        this.#options.logger.info(`${key}: config changed, restarting`);
        existing.config = wanted.config;
        existing.configJson = configJson;
        existing.plugin = plugin;
        existing.attempts = 0;
        void this.#stopAccount(existing).then(() => this.#startAccount(existing));
        continue;
      }
      const runtime: AccountRuntime = {
        channel: wanted.channel,
        accountId: wanted.accountId,
        plugin,
        config: wanted.config,
        configJson,
        account: undefined,
        status: emptyStatus(),
        state: "stopped",
        generation: 0,
        controller: undefined,
        restartTimer: undefined,
        attempts: 0,
      };
      this.#accounts.set(key, runtime);
      void this.#startAccount(runtime);
    }
    this.#changed();
  }

  // ---- account lifecycle ----------------------------------------------------------------------------------------

  async #startAccount(runtime: AccountRuntime): Promise<void> {
    if (this.#stopped) return;
    const generation = ++runtime.generation;
    clearTimeout(runtime.restartTimer);
    runtime.controller = new AbortController();
    runtime.state = "starting";
    runtime.status = { ...runtime.status, fatal: false, lastStartAt: Date.now() };
    this.#changed();
    try {
      const account = runtime.plugin.createAccount(runtime.accountId, runtime.config);
      runtime.account = account;
      await account.start(this.#context(runtime, generation));
      if (generation !== runtime.generation) return;
      runtime.attempts = 0;
      runtime.state = "connected";
      runtime.status = { ...runtime.status, running: true, reconnectAttempts: 0 };
      this.#changed();
    } catch (error) {
      this.#failed(runtime, error, generation);
    }
  }

  /** An account failed (at start or later): fatal → stays stopped with the reason; else restart with backoff. */
  #failed(runtime: AccountRuntime, error: unknown, generation: number): void {
    if (generation !== runtime.generation || this.#stopped) return;
    const message = error instanceof Error ? error.message : String(error);
    const key = `${runtime.channel}:${runtime.accountId}`;
    const account = runtime.account;
    runtime.generation++;
    runtime.controller?.abort();
    this.#dropRoutes(runtime);
    void this.#settle(account?.stop(), key);
    runtime.status = { ...runtime.status, running: false, connected: false, lastError: message };
    if (isFatal(error)) {
      runtime.state = "fatal";
      runtime.status.fatal = true;
      this.#options.logger.error(`${key} stopped: ${message} (fix the config; a config change restarts it)`);
    } else {
      runtime.attempts++;
      runtime.state = "backoff";
      runtime.status.reconnectAttempts = runtime.attempts;
      const delay = backoffDelay(runtime.attempts, {
        baseMs: this.#options.restartBackoff?.baseMs ?? 1_000,
        maxMs: this.#options.restartBackoff?.maxMs ?? 300_000,
      });
      this.#options.logger.warn(`${key} failed: ${message} — restarting in ${Math.round(delay / 100) / 10} s`);
      runtime.restartTimer = setTimeout(() => void this.#startAccount(runtime), delay);
      runtime.restartTimer.unref();
    }
    this.#changed();
  }

  async #stopAccount(runtime: AccountRuntime): Promise<void> {
    runtime.generation++;
    clearTimeout(runtime.restartTimer);
    runtime.controller?.abort();
    this.#dropRoutes(runtime);
    const account = runtime.account;
    runtime.account = undefined;
    await this.#settle(account?.stop(), `${runtime.channel}:${runtime.accountId}`);
    runtime.state = "stopped";
    runtime.status = { ...runtime.status, running: false, connected: false, lastStopAt: Date.now() };
    this.#changed();
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
    return {
      channel: runtime.channel,
      accountId: runtime.accountId,
      config: runtime.config,
      logger,
      signal: runtime.controller!.signal,
      stateDir,
      receive: (message) => {
        if (!current()) return;
        try {
          this.#inbound(runtime, { ...message, channel: runtime.channel, accountId: runtime.accountId });
        } catch (error) {
          logger.error({ err: error }, "inbound message failed");
        }
      },
      setStatus: (patch) => {
        if (!current()) return;
        runtime.status = { ...runtime.status, ...patch };
        if (patch.connected === true && runtime.state !== "starting") runtime.state = "connected";
        if (patch.connected === false && runtime.state === "connected") runtime.state = "reconnecting";
        this.#changed();
      },
      reportError: (error) => this.#failed(runtime, error, generation),
      registerHttpRoute: (route) => {
        const path = `/channels/${runtime.channel}/${runtime.accountId}/${route.path.replace(/^\/+/, "")}`;
        this.#routes.set(`${route.method} ${path}`, { route, runtime, generation });
        return path;
      },
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
    const host = headers.get("host") ?? "localhost";
    const web = new Request(`http://${host}${path}`, {
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

  #changed(): void {
    this.#options.onStatusChange?.();
  }

  /** Stop every account (shutdown). */
  async stop(): Promise<void> {
    for (const burst of this.#bursts.values()) clearTimeout(burst.timer);
    this.#bursts.clear();
    await Promise.all([...this.#accounts.values()].map((runtime) => this.#stopAccount(runtime)));
    this.#stopped = true;
  }

  // ---- inbound pipeline -----------------------------------------------------------------------------------------

  #inbound(runtime: AccountRuntime, message: InboundMessage): void {
    const key = `${message.channel}:${message.accountId}`;
    const dedupeKey = `${key}:${message.peer}:${message.messageId}`;
    if (this.#seen.has(dedupeKey)) {
      this.#options.logger.debug(`${key}: duplicate message ${message.messageId} ignored`);
      return;
    }
    this.#seen.set(dedupeKey, Date.now());
    if (this.#seen.size > DEDUPE_LIMIT) this.#seen.delete(this.#seen.keys().next().value!);
    runtime.status.lastInboundAt = Date.now();
    const decision = decideAccess(message, runtime.config, (senderId) =>
      this.pairing.isApproved(message.channel, message.accountId, senderId),
    );
    const chatKey = `${key}:${message.peer}:${message.threadId ?? ""}`;
    switch (decision.action) {
      case "drop":
        this.#options.logger.debug(`${key}: message from ${message.sender.id} dropped: ${decision.reason}`);
        return;
      case "pair":
        this.#pair(runtime, message).catch((error: Error) =>
          this.#options.logger.error({ err: error }, `${key}: pairing request from ${message.sender.id} failed`),
        );
        return;
      case "context": {
        const limit = runtime.config.historyLimit ?? 20;
        if (limit === 0 || !message.text) return;
        const lines = this.#history.get(chatKey) ?? [];
        lines.push(`${senderLabel(message.sender)}: ${message.text}`);
        this.#history.set(chatKey, lines.slice(-limit));
        return;
      }
      case "process": {
        const burstKey = `${chatKey}:${message.sender.id}`;
        const burst = this.#bursts.get(burstKey);
        const debounceMs = runtime.config.debounceMs ?? 500;
        if (burst) clearTimeout(burst.timer);
        const messages = [...(burst?.messages ?? []), message];
        const flush = () => {
          this.#bursts.delete(burstKey);
          this.#dispatch(runtime, chatKey, messages).catch((error: Error) =>
            this.#options.logger.error({ err: error }, `${key}: a message from ${message.sender.id} failed`),
          );
        };
        if (debounceMs === 0) {
          flush();
          return;
        }
        this.#bursts.set(burstKey, { messages, runtime, timer: setTimeout(flush, debounceMs) });
      }
    }
  }

  async #pair(runtime: AccountRuntime, message: InboundMessage): Promise<void> {
    const key = `${message.channel}:${message.accountId}`;
    const outcome = this.pairing.request(message.channel, message.accountId, message.sender, message.peer);
    if (outcome.kind === "limited") {
      this.#options.logger.warn(
        `${key}: ${PAIRING_PENDING_PER_ACCOUNT} pairing requests are pending; ${message.sender.id} gets no code until one is approved or expires (gateway pairing list ${message.channel})`,
      );
      return;
    }
    if (outcome.kind === "pending") return;
    const { code } = outcome.request;
    this.#options.logger.info(
      `${key}: pairing request from ${senderLabel(message.sender)} (${message.sender.id}) — approve with: gateway pairing approve ${message.channel} ${code}`,
    );
    await this.#send(runtime, {
      peer: message.peer,
      text: `I don't know you yet, so your message was not passed on.\n\nYour pairing code: ${code}\n\nAsk the owner of this gateway to approve it:\ngateway pairing approve ${message.channel} ${code}\n\n(The code expires in 1 hour.)`,
    }).catch((error: Error) => this.#options.logger.warn(`${key}: could not send the pairing code: ${error.message}`));
  }

  async #dispatch(runtime: AccountRuntime, chatKey: string, messages: InboundMessage[]): Promise<void> {
    const last = messages.at(-1)!;
    const key = `${last.channel}:${last.accountId}`;
    const group = last.chatType !== "direct";
    const context = this.#history.get(chatKey);
    this.#history.delete(chatKey);
    const parts = messages.map((message) =>
      [
        group ? `${senderLabel(message.sender)}: ${message.text}` : message.text,
        ...(message.media ?? []).map(mediaLine),
      ]
        .filter(Boolean)
        .join("\n"),
    );
    const text = [
      ...(context?.length ? ["[Earlier messages in this chat, not addressed to you]", ...context, "[Now]"] : []),
      ...parts,
    ].join("\n");
    const typing = this.#typing(runtime, last);
    let reply: string | undefined;
    try {
      reply = await this.#options.host.run({ inbound: last, text });
    } catch (error) {
      this.#options.logger.error({ err: error }, `${key}: the agent failed on a message from ${last.sender.id}`);
      reply = `Sorry, something went wrong on my side: ${(error as Error).message}`;
    } finally {
      typing();
    }
    if (!reply?.trim()) return;
    await this.#send(runtime, {
      peer: last.peer,
      text: reply,
      ...(last.threadId ? { threadId: last.threadId } : {}),
      replyToMessageId: last.messageId,
    }).catch((error: Error) =>
      this.#options.logger.warn(`${key}: the reply to ${last.peer} could not be sent: ${error.message}`),
    );
  }

  /** "typing…" in the chat until the returned function is called (where the platform has it). */
  #typing(runtime: AccountRuntime, message: InboundMessage): () => void {
    const account = runtime.account;
    if (!account?.sendTyping || !runtime.plugin.capabilities.typing) return () => {};
    const send = () =>
      void account
        .sendTyping?.(message.peer, message.threadId)
        .catch((error: Error) => this.#options.logger.debug(`typing indicator failed: ${error.message}`));
    send();
    const timer = setInterval(send, TYPING_INTERVAL_MS);
    return () => clearInterval(timer);
  }

  async #send(
    runtime: AccountRuntime,
    message: { peer: string; text: string; threadId?: string; replyToMessageId?: string },
  ): Promise<SendResult> {
    const account = runtime.account;
    if (!account || runtime.state === "fatal" || runtime.state === "stopped" || runtime.state === "invalid")
      throw unavailable(
        `${runtime.channel}:${runtime.accountId} is not running${runtime.status.lastError ? ` (${runtime.status.lastError})` : ""}`,
      );
    const result = await account.sendText(message);
    runtime.status.lastOutboundAt = Date.now();
    return result;
  }

  // ---- delivery (send method, agent --deliver, cron announce, heartbeat) ----------------------------------------

  #resolve(channel: string | undefined, accountId: string | undefined): AccountRuntime {
    const configured = [...new Set([...this.#accounts.values()].map((runtime) => runtime.channel))];
    const name = channel ?? (configured.length === 1 ? configured[0] : undefined);
    if (!name)
      throw invalidRequest(
        configured.length === 0
          ? "no channels are configured (add channels.telegram.botToken … to the config)"
          : `say which channel (configured: ${configured.join(", ")})`,
      );
    const accounts = [...this.#accounts.values()].filter((runtime) => runtime.channel === name);
    if (accounts.length === 0)
      throw invalidRequest(
        `channel "${name}" is not configured (${configured.length ? `configured: ${configured.join(", ")}` : `no channels are configured: add channels.${name} to the config`})`,
      );
    const runtime = accountId
      ? accounts.find((candidate) => candidate.accountId === accountId)
      : (accounts.find((candidate) => candidate.accountId === "default") ?? accounts[0]);
    if (!runtime)
      throw invalidRequest(
        `${name} has no account "${accountId}" (accounts: ${accounts.map((candidate) => candidate.accountId).join(", ")})`,
      );
    return runtime;
  }

  /** Throw (with what to do) when no configured account could take a message to `target`. */
  checkTarget(target: { channel: string; accountId?: string; peer?: string }): void {
    this.#resolve(target.channel, target.accountId);
    if (!target.peer) throw invalidRequest(`deliver to ${target.channel} needs to (the chat id)`);
  }

  /** Send text to a chat (chunked by the plugin). */
  async deliver(target: DeliveryTarget, text: string): Promise<SendResult & { channel: string; accountId: string }> {
    const runtime = this.#resolve(target.channel, target.accountId);
    const result = await this.#send(runtime, {
      peer: target.peer,
      text,
      ...(target.threadId ? { threadId: target.threadId } : {}),
      ...(target.replyToMessageId ? { replyToMessageId: target.replyToMessageId } : {}),
    });
    return { ...result, channel: runtime.channel, accountId: runtime.accountId };
  }

  // ---- pairing --------------------------------------------------------------------------------------------------

  pairingList(filter: { channel?: string; accountId?: string } = {}): ChannelsPairingListResult {
    const label = (channel: string) => this.#plugins.get(channel)?.meta.label ?? channel;
    const iso = (ms: number) => new Date(ms).toISOString();
    return {
      accounts: [...this.#accounts.values()]
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
    const request = this.pairing.approve(params.channel, params.requestId, params.accountId);
    if (!request)
      throw invalidRequest(
        `no pending pairing code "${params.requestId}" for ${params.channel}${params.accountId ? `:${params.accountId}` : ""} (codes expire after 1 hour; see gateway pairing list ${params.channel})`,
      );
    this.#options.logger.info(
      `${request.channel}:${request.accountId}: ${request.senderName} (${request.senderId}) approved by pairing code`,
    );
    let notification: ChannelsPairingApproveResult["notification"] = "not-requested";
    if (params.notify) {
      const runtime = this.#accounts.get(`${request.channel}:${request.accountId}`);
      notification = runtime
        ? await this.#send(runtime, {
            peer: request.peer,
            text: "You're approved: your messages now reach the agent. Send your message again.",
          }).then(
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

  // ---- status and health ----------------------------------------------------------------------------------------

  #accountStatus(runtime: AccountRuntime): ChannelAccountStatus {
    const { status } = runtime;
    return {
      accountId: runtime.accountId,
      enabled: true,
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
      dmPolicy: runtime.config.dmPolicy ?? "pairing",
      allowFrom: [...(runtime.config.allowFrom ?? []), ...this.pairing.approved(runtime.channel, runtime.accountId)],
      ...(runtime.status.lastProbeAt !== undefined ? { lastProbeAt: runtime.status.lastProbeAt } : {}),
      ...(runtime.probe ? { probe: runtime.probe } : {}),
    };
  }

  /** `channels.status`: every account, optionally probed now. */
  async status(params: { probe?: boolean; timeoutMs?: number; channel?: string } = {}): Promise<ChannelsStatusResult> {
    const runtimes = [...this.#accounts.values()].filter(
      (runtime) => !params.channel || runtime.channel === params.channel,
    );
    if (params.probe) {
      const timeoutMs = params.timeoutMs ?? 10_000;
      await Promise.all(
        runtimes.map(async (runtime) => {
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
        }),
      );
    }
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
      result.channelLabels[channel] = this.#plugins.get(channel)?.meta.label ?? channel;
      result.channelAccounts[channel] = accounts.map((runtime) => this.#accountStatus(runtime));
      result.channels[channel] = {
        configured: true,
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

  /** The `channels`, `channelOrder`, `channelLabels` and `plugins` sections of the health snapshot. */
  health(): Record<string, unknown> {
    const channels: Record<string, { accounts: Record<string, ChannelAccountStatus> }> = {};
    for (const runtime of this.#accounts.values()) {
      channels[runtime.channel] ??= { accounts: {} };
      channels[runtime.channel]!.accounts[runtime.accountId] = this.#accountStatus(runtime);
    }
    return {
      channels,
      channelOrder: Object.keys(channels),
      channelLabels: Object.fromEntries(
        Object.keys(channels).map((channel) => [channel, this.#plugins.get(channel)?.meta.label ?? channel]),
      ),
      plugins: { loaded: [...this.#plugins.keys()], errors: this.#pluginErrors },
    };
  }

  /** Lines for `status`/`health`: nothing configured, fatal accounts, accounts reconnecting. */
  warnings(): string[] {
    if (this.#accounts.size === 0 && this.#configIssues.length === 0)
      return [
        `no channels configured — add channels.telegram.botToken (from @BotFather) to the config to talk to the agent from Telegram`,
      ];
    const lines: string[] = [];
    for (const runtime of this.#accounts.values()) {
      const key = `${runtime.channel}:${runtime.accountId}`;
      if (runtime.state === "fatal") lines.push(`${key} stopped: ${runtime.status.lastError}`);
      else if (runtime.state === "backoff" || runtime.state === "reconnecting")
        lines.push(
          `${key} reconnecting (attempt ${runtime.status.reconnectAttempts})${runtime.status.lastError ? `: ${runtime.status.lastError}` : ""}`,
        );
    }
    for (const error of this.#pluginErrors) lines.push(`channel plugin ${error.origin}: ${error.error}`);
    for (const issue of this.#configIssues) lines.push(`${issue} (the channel is off)`);
    return lines;
  }
}

/** Why a module's export is not a channel plugin (undefined when it is one). */
function pluginProblem(candidate: unknown): string | undefined {
  if (!candidate || typeof candidate !== "object") return "the module exports no channel plugin (default export)";
  const plugin = candidate as Partial<ChannelPlugin>;
  if (plugin.specificationVersion !== CHANNEL_SPECIFICATION_VERSION)
    return `it implements plugin contract ${JSON.stringify(plugin.specificationVersion ?? "(none)")}; this gateway runs ${CHANNEL_SPECIFICATION_VERSION} plugins (update the plugin, or @gateway/plugin-sdk in it)`;
  if (typeof plugin.id !== "string" || !/^[a-z][a-z0-9-]*$/.test(plugin.id))
    return "id must be lowercase letters, digits and dashes";
  if (typeof plugin.createAccount !== "function") return "createAccount(accountId, config) is missing";
  if (!plugin.configSchema || typeof plugin.configSchema !== "object")
    return "configSchema (TypeBox object) is missing";
  if (!plugin.capabilities || typeof plugin.capabilities.maxTextLength !== "number")
    return "capabilities (with maxTextLength) are missing";
  if (!plugin.meta?.label) return "meta.label is missing";
  return undefined;
}
