import { monitorEventLoopDelay, performance } from "node:perf_hooks";
import type { EventLoopHealth, GatewayProcessHealth, HealthSnapshot } from "@gateway/protocol";

/** A section other packages add to the health snapshot (channels, agents, plugins, sessions…). */
export type HealthContributor = () => Partial<Omit<HealthSnapshot, "ok" | "ts" | "durationMs" | "eventLoop">>;

const DELAY_DEGRADED_MS = 200;
const UTILIZATION_DEGRADED = 0.95;

/** Samples the event loop and assembles health snapshots from the registered contributors. */
export class HealthMonitor {
  readonly #delay = monitorEventLoopDelay({ resolution: 20 });
  #utilization = performance.eventLoopUtilization();
  #cpu = process.cpuUsage();
  #sampledAt = performance.now();
  #degradedSince: number | null = null;
  #eventLoop: EventLoopHealth;
  readonly #contributors = new Map<string, HealthContributor>();
  #snapshot: HealthSnapshot;
  #version = 0;

  constructor() {
    this.#delay.enable();
    this.#eventLoop = {
      degraded: false,
      reasons: [],
      intervalMs: 0,
      delayP99Ms: 0,
      delayMaxMs: 0,
      utilization: 0,
      cpuCoreRatio: 0,
    };
    this.#snapshot = { ok: true, ts: Date.now(), eventLoop: this.#eventLoop };
  }

  get version(): number {
    return this.#version;
  }

  /** Add or replace a named section; call `refresh()` after a change to publish it. */
  contribute(name: string, contributor: HealthContributor): void {
    this.#contributors.set(name, contributor);
  }

  /** The last computed snapshot. */
  get snapshot(): HealthSnapshot {
    return this.#snapshot;
  }

  /** Recompute the snapshot (sampling the event loop since the last refresh) and bump the version. */
  refresh(): HealthSnapshot {
    const started = performance.now();
    this.#sampleEventLoop();
    const snapshot: HealthSnapshot = { ts: Date.now() };
    for (const contributor of this.#contributors.values()) Object.assign(snapshot, contributor());
    snapshot.eventLoop = this.#eventLoop;
    if (!this.#eventLoop.degraded) snapshot.ok = true;
    snapshot.durationMs = Math.round(performance.now() - started);
    this.#snapshot = snapshot;
    this.#version++;
    return snapshot;
  }

  #memory = { rss: 0, heapUsed: 0, sampledAt: 0 };

  /** Process figures for the `health` method. Memory is sampled at most every 250 ms (it is not free to read). */
  processHealth(
    version: string,
    startedAt: number,
    connections: GatewayProcessHealth["connections"],
    warnings: string[],
  ) {
    const now = Date.now();
    if (now - this.#memory.sampledAt > 250) {
      const usage = process.memoryUsage();
      this.#memory = { rss: usage.rss, heapUsed: usage.heapUsed, sampledAt: now };
    }
    const memory = this.#memory;
    return {
      version,
      uptimeMs: Date.now() - startedAt,
      pid: process.pid,
      nodeVersion: process.versions.node,
      memory: { rssBytes: memory.rss, heapUsedBytes: memory.heapUsed },
      connections,
      warnings,
    } satisfies GatewayProcessHealth;
  }

  #sampleEventLoop(): void {
    const now = performance.now();
    const utilization = performance.eventLoopUtilization(this.#utilization);
    this.#utilization = performance.eventLoopUtilization();
    // CPU time the process used (all threads) per wall-clock time: 1 is one core busy the whole interval.
    const cpu = process.cpuUsage(this.#cpu);
    this.#cpu = process.cpuUsage();
    const wallMicros = Math.max(1, (now - this.#sampledAt) * 1000);
    const cpuCoreRatio = (cpu.user + cpu.system) / wallMicros;
    const p99 = this.#delay.percentile(99) / 1e6;
    const max = this.#delay.max / 1e6;
    this.#delay.reset();
    const reasons: EventLoopHealth["reasons"] = [];
    if (p99 > DELAY_DEGRADED_MS) reasons.push("event_loop_delay");
    if (utilization.utilization > UTILIZATION_DEGRADED) reasons.push("event_loop_utilization");
    const degraded = reasons.length > 0;
    if (degraded && this.#degradedSince === null) this.#degradedSince = Date.now();
    if (!degraded) this.#degradedSince = null;
    this.#eventLoop = {
      degraded,
      degradedSinceMs: this.#degradedSince,
      reasons,
      intervalMs: Math.round(now - this.#sampledAt),
      delayP99Ms: Number.isFinite(p99) ? Math.round(p99 * 100) / 100 : 0,
      delayMaxMs: Number.isFinite(max) ? Math.round(max * 100) / 100 : 0,
      utilization: Math.round(utilization.utilization * 1000) / 1000,
      cpuCoreRatio: Math.round(cpuCoreRatio * 1000) / 1000,
    };
    this.#sampledAt = now;
  }

  /** Stop sampling. */
  close(): void {
    this.#delay.disable();
  }
}
