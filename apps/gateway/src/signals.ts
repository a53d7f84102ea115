// The process's signals and last-resort error handlers, handled by the app alone (packages never touch the
// process): SIGTERM and SIGINT close the gateway gracefully, a second one forces the exit, and a shutdown that
// overruns its deadline exits anyway; SIGHUP re-reads the config, as daemons do; an unhandled rejection is logged
// and the gateway keeps serving; an uncaught exception is logged and the process exits for its supervisor to
// restart it.
import type { CloseOptions } from "@gateway/server";

/** What the handlers need of a gateway. */
export interface Closable {
  close(options?: CloseOptions): Promise<void>;
  readonly config: { reload(): Promise<void> };
  readonly server: {
    readonly logger: {
      info(object: unknown, message?: string): void;
      warn(object: unknown, message?: string): void;
      error(object: unknown, message?: string): void;
      fatal?(object: unknown, message?: string): void;
    };
  };
}

/** Options of the handlers (tests replace the exit and the signals). */
export interface SignalOptions {
  exit?: (code: number) => void;
  /** @default ["SIGTERM", "SIGINT"] */
  shutdownSignals?: NodeJS.Signals[];
  /** @default "SIGHUP" */
  reloadSignal?: NodeJS.Signals;
  /** After the first shutdown signal, exit anyway after this long. @default 35000 (the server's 30 s drain + 5 s) */
  forceExitAfterMs?: number;
  /** Install the process-wide unhandledRejection / uncaughtException handlers. @default true */
  errorHandlers?: boolean;
}

/** Install the handlers; returns a function that removes them. */
export function installShutdownSignals(gateway: Closable, options: SignalOptions = {}): () => void {
  const exit = options.exit ?? ((code: number) => process.exit(code));
  const shutdownSignals = options.shutdownSignals ?? ["SIGTERM", "SIGINT"];
  const reloadSignal = options.reloadSignal ?? "SIGHUP";
  const logger = gateway.server.logger;
  let received = 0;
  let deadline: NodeJS.Timeout | undefined;

  const onShutdownSignal = (signal: NodeJS.Signals) => {
    received++;
    if (received > 1) {
      logger.warn({ signal }, "second signal: exiting now");
      exit(130);
      return;
    }
    logger.info({ signal }, "signal received: shutting down (send it again to force)");
    // Whatever a client or a plugin does, the process ends: a stuck close must not outlive its deadline.
    deadline = setTimeout(() => {
      logger.error({ signal }, "shutdown did not finish in time: exiting now");
      exit(1);
    }, options.forceExitAfterMs ?? 35_000);
    deadline.unref();
    gateway.close({ reason: `received ${signal}` }).then(
      () => {
        clearTimeout(deadline);
        exit(0);
      },
      (error: unknown) => {
        clearTimeout(deadline);
        logger.error({ err: error }, "shutdown failed");
        exit(1);
      },
    );
  };
  const onReloadSignal = (signal: NodeJS.Signals) => {
    logger.info({ signal }, "signal received: reloading the config");
    gateway.config.reload().catch((error: unknown) => logger.error({ err: error }, "config reload failed"));
  };
  const onUnhandledRejection = (reason: unknown) => {
    // A bug somewhere (a promise nobody awaited): it is logged with its stack; the clients keep their gateway.
    logger.error({ err: reason }, "unhandled promise rejection (a bug: please report it); the gateway keeps running");
  };
  const onUncaughtException = (error: Error) => {
    // State after an uncaught exception is unknown: log, then exit so the service manager restarts a clean process.
    (logger.fatal ?? logger.error).call(logger, { err: error }, "uncaught exception: exiting");
    exit(70);
  };

  for (const signal of shutdownSignals) process.on(signal, onShutdownSignal);
  process.on(reloadSignal, onReloadSignal);
  const errorHandlers = options.errorHandlers ?? true;
  if (errorHandlers) {
    process.on("unhandledRejection", onUnhandledRejection);
    process.on("uncaughtException", onUncaughtException);
  }
  return () => {
    for (const signal of shutdownSignals) process.off(signal, onShutdownSignal);
    process.off(reloadSignal, onReloadSignal);
    if (errorHandlers) {
      process.off("unhandledRejection", onUnhandledRejection);
      process.off("uncaughtException", onUncaughtException);
    }
    if (deadline) clearTimeout(deadline);
  };
}
