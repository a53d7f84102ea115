import { type GatewayHost, invalidRequest, type MethodParams, type MethodResult } from "@gateway/protocol";
import type { CronService } from "./cron-service.js";
import type { HeartbeatService } from "./heartbeat.js";
import { jobIdOf } from "./job-id.js";

/** How the methods get onto the gateway: the protocol's host contract (the server implements it). */
export type MethodHost = Pick<GatewayHost, "registerMethod">;

/**
 * `cron.list|get|status|add|update|remove|run|runs`, `last-heartbeat`, `set-heartbeats`. Each cron method first takes
 * in what other instances changed (a shared store; nothing to do with the file store), so `cron.list` on one instance
 * shows at once what was added on another, and an edit applies to the job as it is now.
 */
export function registerCronMethods(host: MethodHost, cron: CronService, heartbeat: HeartbeatService): void {
  const synced =
    <P, R>(handler: (params: P) => R) =>
    async (params: P): Promise<Awaited<R>> => {
      await cron.sync();
      return await handler(params);
    };
  host.registerMethod(
    "cron.list",
    synced((params: MethodParams<"cron.list">): MethodResult<"cron.list"> => cron.list(params)),
  );
  host.registerMethod(
    "cron.get",
    synced((params: MethodParams<"cron.get">) => {
      const id = "id" in params ? params.id : params.jobId;
      const job = cron.get(id);
      if (!job) throw invalidRequest(`cron job not found: ${id} (gateway cron list shows them)`);
      return job;
    }),
  );
  host.registerMethod(
    "cron.status",
    synced((): MethodResult<"cron.status"> => cron.status()),
  );
  host.registerMethod("cron.add", (params) => cron.add(params));
  host.registerMethod(
    "cron.update",
    synced((params: MethodParams<"cron.update">) => cron.update(jobIdOf(params as { id?: string }), params.patch)),
  );
  host.registerMethod(
    "cron.remove",
    synced(async (params: MethodParams<"cron.remove">) => ({
      ok: true as const,
      removed: await cron.remove(jobIdOf(params as { id?: string })),
    })),
  );
  host.registerMethod(
    "cron.run",
    synced(async (params: MethodParams<"cron.run">) => ({
      ok: true as const,
      ...(await cron.run(jobIdOf(params as { id?: string }), params.mode)),
    })),
  );
  host.registerMethod(
    "cron.runs",
    synced((params: MethodParams<"cron.runs">) => cron.runs(params)),
  );
  host.registerMethod("last-heartbeat", () => heartbeat.last());
  host.registerMethod("set-heartbeats", (params) => {
    heartbeat.setEnabled(params.enabled);
    return { ok: true as const, enabled: heartbeat.enabled };
  });
}
