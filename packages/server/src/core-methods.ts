import type { HealthResult, LogsTailResult, PresenceEntry, StatusResult, SystemEventParams } from "@gateway/protocol";
import { unavailable } from "./errors.js";
import type { GatewayServer } from "./gateway-server.js";
import { withReferenceLogFields } from "./log-line-shape.js";
import { tailLogFile } from "./logs-tail.js";
import type { MethodContext } from "./method-registry.js";

/** What the core methods read from the server. */
export interface CoreMethodSources {
  health(): HealthResult;
  status(): StatusResult;
  presence(context: MethodContext): PresenceEntry[];
  systemEvent(params: SystemEventParams, context: MethodContext): void;
  logFile: string | undefined;
}

/** Register `health`, `status`, `system-presence`, `system-event` and `logs.tail`. */
export function registerCoreMethods(server: GatewayServer, sources: CoreMethodSources): void {
  server.registerMethod("health", () => sources.health());
  server.registerMethod("status", () => sources.status());
  server.registerMethod("system-presence", (_params, context) => sources.presence(context));
  server.registerMethod("system-event", (params, context) => {
    sources.systemEvent(params, context);
    return { ok: true as const };
  });
  server.registerMethod("logs.tail", async (params): Promise<LogsTailResult> => {
    if (!sources.logFile) {
      throw unavailable("This gateway writes no log file (it was started without a state directory).");
    }
    const result = await tailLogFile(sources.logFile, params);
    return { ...result, lines: result.lines.map(withReferenceLogFields) };
  });
}
