// The process's signals, handled by the app alone (packages never touch the process): SIGTERM and SIGINT close the
// gateway gracefully; a second signal forces the exit.
import type { CloseOptions } from "@gateway/server";

/** What the signal handlers need of a gateway. */
export interface Closable {
  close(options?: CloseOptions): Promise<void>;
  readonly server: {
    readonly logger: {
      info(object: unknown, message?: string): void;
      warn(object: unknown, message?: string): void;
      error(object: unknown, message?: string): void;
    };
  };
}

/** Install the handlers; returns a function that removes them. */
export function installShutdownSignals(
  gateway: Closable,
  options: { exit?: (code: number) => void; signals?: NodeJS.Signals[] } = {},
): () => void {
  const exit = options.exit ?? ((code: number) => process.exit(code));
  const signals = options.signals ?? ["SIGTERM", "SIGINT"];
  const logger = gateway.server.logger;
  let received = 0;
  const onSignal = (signal: NodeJS.Signals) => {
    received++;
    if (received > 1) {
      logger.warn({ signal }, "second signal: exiting now");
      exit(130);
      return;
    }
    logger.info({ signal }, "signal received: shutting down (send it again to force)");
    gateway.close({ reason: `received ${signal}` }).then(
      () => exit(0),
      (error: unknown) => {
        logger.error({ err: error }, "shutdown failed");
        exit(1);
      },
    );
  };
  for (const signal of signals) process.on(signal, onSignal);
  return () => {
    for (const signal of signals) process.off(signal, onSignal);
  };
}
