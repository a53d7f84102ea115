// The reference's system screens, answered with what this gateway really has: the machine (`system.info`), no update
// channel (`update.status`), measured stability (`diagnostics.stability`) and no skills yet (`skills.status`).
import { statfs } from "node:fs/promises";
import { arch, cpus, freemem, hostname, loadavg, platform, release, totalmem, uptime } from "node:os";
import type { AgentService } from "@gateway/agent";
import type { DiagnosticsStabilityResult, SystemInfoResult } from "@gateway/protocol";
import type { GatewayServer } from "@gateway/server";

/** Register `system.info`, `update.status`, `diagnostics.stability` and `skills.status`. */
export function registerSystemMethods(
  server: GatewayServer,
  sources: { agent: AgentService; stateDir: string; maxConcurrentRuns(): number; workspace(): string },
): void {
  server.registerMethod("system.info", async (): Promise<SystemInfoResult> => {
    const disk = await statfs(sources.stateDir).catch(() => undefined);
    const [one = 0, five = 0, fifteen = 0] = loadavg();
    const name = hostname();
    return {
      machineName: name,
      hostname: name,
      platform: platform(),
      release: release(),
      arch: arch(),
      osLabel: `${platform()} ${release()} (${arch()})`,
      ...(server.address ? { port: server.address.port } : {}),
      nodeVersion: process.versions.node,
      pid: process.pid,
      uptimeMs: Math.round(uptime() * 1000),
      cpuCount: cpus().length,
      ...(cpus()[0]?.model ? { cpuModel: cpus()[0]!.model } : {}),
      loadAverage: [one, five, fifteen],
      memoryTotalBytes: totalmem(),
      memoryFreeBytes: freemem(),
      ...(disk
        ? {
            diskTotalBytes: disk.blocks * disk.bsize,
            diskAvailableBytes: disk.bavail * disk.bsize,
            diskPath: sources.stateDir,
          }
        : {}),
    };
  });

  // No update channel: the gateway is updated with npm like any package, so there is never an update to offer here.
  server.registerMethod("update.status", () => ({ sentinel: null, updateAvailable: null }));

  server.registerMethod("diagnostics.stability", (): DiagnosticsStabilityResult => {
    const loop = server.healthSnapshot.eventLoop;
    const memory = process.memoryUsage();
    return {
      ts: Date.now(),
      uptimeMs: Math.round(process.uptime() * 1000),
      eventLoop: {
        degraded: loop?.degraded ?? false,
        delayP99Ms: loop?.delayP99Ms ?? 0,
        delayMaxMs: loop?.delayMaxMs ?? 0,
        utilization: loop?.utilization ?? 0,
      },
      memory: {
        rssBytes: memory.rss,
        heapUsedBytes: memory.heapUsed,
        heapTotalBytes: memory.heapTotal,
        externalBytes: memory.external,
      },
      lanes: {
        busy: sources.agent.lanes.running,
        maxConcurrentRuns: sources.maxConcurrentRuns(),
      },
      connections: server.connectionCount,
    };
  });

  server.registerMethod("skills.status", () => ({
    workspaceDir: sources.workspace(),
    skills: [],
    note: "this gateway has no skills yet: the agent's abilities are its tools (tools.catalog)",
  }));
}
