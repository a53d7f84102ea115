import type { GatewayServer } from "./gateway-server.js";

/**
 * SIGTERM/SIGINT close the gateway gracefully; a second signal forces the process to exit. Only an app calls this
 * (packages never touch the process). Returns a function that removes the handlers.
 */
export function installShutdownSignals(
  server: GatewayServer,
  options: { exit?: (code: number) => void; signals?: NodeJS.Signals[] } = {},
): () => void {
  const exit = options.exit ?? ((code: number) => process.exit(code));
  const signals = options.signals ?? ["SIGTERM", "SIGINT"];
  let received = 0;
  const onSignal = (signal: NodeJS.Signals) => {
    received++;
    if (received > 1) {
      server.logger.warn({ signal }, "second signal: exiting now");
      exit(130);
      return;
    }
    server.logger.info({ signal }, "signal received: shutting down (send it again to force)");
    server.close({ reason: `received ${signal}` }).then(
      () => exit(0),
      (error: unknown) => {
        server.logger.error({ err: error }, "shutdown failed");
        exit(1);
      },
    );
  };
  for (const signal of signals) process.on(signal, onSignal);
  return () => {
    for (const signal of signals) process.off(signal, onSignal);
  };
}
