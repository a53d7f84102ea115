import { type GatewayHost, invalidRequest, type MethodResult } from "@gateway/protocol";
import { type CronService, jobIdOf } from "./cron-service.js";
import type { HeartbeatService } from "./heartbeat.js";

/** How the methods get onto the gateway: the protocol's host contract (the server implements it). */
export type MethodHost = Pick<GatewayHost, "registerMethod">;

/** `cron.list|get|status|add|update|remove|run|runs`, `last-heartbeat`, `set-heartbeats`. */
export function registerCronMethods(host: MethodHost, cron: CronService, heartbeat: HeartbeatService): void {
  host.registerMethod("cron.list", (params): MethodResult<"cron.list"> => cron.list(params));
  host.registerMethod("cron.get", (params) => {
    const id = "id" in params ? params.id : params.jobId;
    const job = cron.get(id);
    if (!job) throw invalidRequest(`cron job not found: ${id} (gateway cron list shows them)`);
    return job;
  });
  host.registerMethod("cron.status", (): MethodResult<"cron.status"> => cron.status());
  host.registerMethod("cron.add", (params) => cron.add(params));
  host.registerMethod("cron.update", (params) => cron.update(jobIdOf(params as { id?: string }), params.patch));
  host.registerMethod("cron.remove", async (params) => ({
    ok: true as const,
    removed: await cron.remove(jobIdOf(params as { id?: string })),
  }));
  host.registerMethod("cron.run", async (params) => ({
    ok: true as const,
    ...(await cron.run(jobIdOf(params as { id?: string }), params.mode)),
  }));
  host.registerMethod("cron.runs", (params) => cron.runs(params));
  host.registerMethod("last-heartbeat", () => heartbeat.last());
  host.registerMethod("set-heartbeats", (params) => {
    heartbeat.setEnabled(params.enabled);
    return { ok: true as const, enabled: heartbeat.enabled };
  });
}
