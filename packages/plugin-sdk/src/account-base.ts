import { type ChannelError, ChannelPluginError, toChannelError } from "./errors.js";
import { type BackoffOptions, ReconnectSupervisor } from "./retry.js";
import type { ChannelAccount, ChannelContext, OutboundMessage, SendResult } from "./types.js";

/**
 * The bookkeeping every channel account repeats, done once: `start` runs `connect` once however often it is called
 * (concurrent callers share it), a failed start is classified and shown in status (fatal or not) before it is
 * rethrown, `stop` waits for a start in progress and then runs `disconnect`, and the status follows each step. A
 * plugin extends it and writes `connect`, `disconnect` and `sendText`; long-lived connections use `supervise`.
 */
export abstract class ChannelAccountBase<Config = Record<string, unknown>> implements ChannelAccount {
  #starting: Promise<void> | undefined;
  #context: ChannelContext | undefined;
  #stopController: AbortController | undefined;
  #supervisor: ReconnectSupervisor | undefined;
  #connected = false;
  #hasConnected = false;

  constructor(
    readonly accountId: string,
    readonly config: Config,
  ) {}

  /** Connect; resolve when receiving works. Throw a fatal ChannelError for what retrying cannot fix. */
  protected abstract connect(context: ChannelContext, signal: AbortSignal): Promise<void>;
  /** Release what `connect` (or a failed attempt) holds. Called once per start, also after a failed one. */
  protected abstract disconnect(): Promise<void>;
  abstract sendText(message: OutboundMessage): Promise<SendResult>;

  /** Turn a library's error into a ChannelError saying what failed; override to know the platform's errors. */
  protected classify(operation: string, error: unknown): ChannelError {
    return toChannelError(operation, error);
  }

  /** The context of the running account. */
  protected get context(): ChannelContext {
    if (!this.#context) throw new ChannelPluginError("context", "the account is not started");
    return this.#context;
  }

  /** Whether the account is started (connected or reconnecting). */
  protected get started(): boolean {
    return this.#starting !== undefined;
  }

  /** Whether receiving works right now. */
  protected get connected(): boolean {
    return this.#connected;
  }

  /** Aborted when the account stops (or the gateway aborts its context). */
  protected get signal(): AbortSignal {
    return this.#stopController?.signal ?? AbortSignal.abort();
  }

  start(context: ChannelContext): Promise<void> {
    this.#starting ??= this.#start(context);
    return this.#starting;
  }

  async #start(context: ChannelContext): Promise<void> {
    this.#context = context;
    const controller = new AbortController();
    this.#stopController = controller;
    const signal = AbortSignal.any([context.signal, controller.signal]);
    this.#hasConnected = false;
    context.setStatus({ configured: true, fatal: false });
    try {
      await this.connect(context, signal);
    } catch (error) {
      const failure = this.classify("start", error);
      this.#starting = undefined;
      await this.#release();
      if (signal.aborted) context.setStatus({ running: false, connected: false });
      else context.setStatus({ running: false, connected: false, fatal: failure.fatal, lastError: failure.message });
      throw failure;
    }
    if (!signal.aborted) this.markConnected();
  }

  async stop(): Promise<void> {
    const starting = this.#starting;
    if (!starting) return;
    this.#stopController?.abort();
    await starting.catch(() => undefined);
    if (this.#starting !== starting) return; // the start failed and released already
    await this.#release();
    this.#starting = undefined;
    this.#context?.setStatus({ running: false, connected: false });
  }

  async #release(): Promise<void> {
    const supervisor = this.#supervisor;
    this.#supervisor = undefined;
    this.#connected = false;
    await supervisor?.stop();
    await this.disconnect().catch((error: unknown) =>
      this.#context?.logger.warn({ err: error }, `${this.#context.channel}: disconnect failed`),
    );
  }

  /** Receiving works (again): running, connected, no error, attempts back to 0. */
  protected markConnected(): void {
    const reconnected = this.#hasConnected && !this.#connected;
    this.#connected = true;
    this.#hasConnected = true;
    this.#context?.setStatus({
      running: true,
      connected: true,
      fatal: false,
      lastError: null,
      reconnectAttempts: 0,
      lastConnectedAt: Date.now(),
    });
    if (reconnected) this.#context?.logger.info(`${this.#context.channel}: reconnected`);
  }

  /** The connection dropped; attempt `attempt` comes after a backoff. */
  protected markReconnecting(attempt: number, error: Error): void {
    this.#connected = false;
    this.#context?.setStatus({ connected: false, reconnectAttempts: attempt, lastError: error.message });
    this.#context?.logger.warn(`${this.#context.channel}: ${error.message} (reconnect attempt ${attempt})`);
  }

  /** Retrying cannot help: stop trying and tell the gateway (it keeps the account stopped, the reason in status). */
  protected markFatal(error: Error): void {
    this.#connected = false;
    this.#context?.setStatus({ connected: false, running: false, fatal: true, lastError: error.message });
    this.#context?.reportError(error);
  }

  /** A message came in / went out (for status). */
  protected markInbound(): void {
    this.#context?.setStatus({ lastInboundAt: Date.now() });
  }

  protected markOutbound(): void {
    this.#context?.setStatus({ lastOutboundAt: Date.now() });
  }

  /**
   * Keep a long-lived connection up: `loop` runs until it fails, then again after a backoff (attempts in status),
   * until the account stops or a fatal error. `loop` calls `connected()` once receiving works.
   */
  protected supervise(
    loop: (signal: AbortSignal, connected: () => void) => Promise<void>,
    backoff: BackoffOptions = {},
  ): void {
    const supervisor = new ReconnectSupervisor(
      (loopSignal, reset) =>
        loop(AbortSignal.any([this.signal, loopSignal]), () => {
          reset();
          if (!this.#connected) this.markConnected();
        }),
      {
        ...backoff,
        onAttempt: (attempt, error) => this.markReconnecting(attempt, error),
        onFatal: (error) => this.markFatal(error),
      },
    );
    this.#supervisor = supervisor;
    supervisor.start();
  }
}
