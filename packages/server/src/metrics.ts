import { monitorEventLoopDelay } from "node:perf_hooks";
import { Counter, Gauge, Histogram, Registry } from "prom-client";

/** A finished agent run, as the gateway reports it to `/metrics` (the agent's RunObservation fits). */
export interface AgentRunSample {
  backend: string;
  model?: { provider: string };
  outcome: string;
  durationMs: number;
  usage?: { inputTokens: number; outputTokens: number };
}

/**
 * What the packages that own a figure report, without depending on prom-client (only the server does): the
 * composition connects each package's callback to these.
 */
export interface GatewayMetricsSink {
  agentRun(sample: AgentRunSample): void;
  cronRun(outcome: string): void;
  channelMessage(direction: "in" | "out", channel: string, account: string): void;
  channelSendFailure(channel: string, account: string): void;
  bridgeEventsDrained(count: number): void;
}

/** The gateway's Prometheus metrics, in a registry of its own (two servers in one process never share one). */
export class GatewayMetrics implements GatewayMetricsSink {
  readonly registry = new Registry();
  readonly connections: Gauge;
  readonly requests: Counter;
  readonly requestDuration: Histogram;
  readonly eventsSent: Counter;
  readonly eventsDropped: Counter;
  readonly slowConsumerCloses: Counter;
  readonly authFailures: Counter;
  readonly handshakeEvictions: Counter;
  readonly presenceBytes: Counter;
  readonly agentRuns: Counter;
  readonly modelDuration: Histogram;
  readonly modelErrors: Counter;
  readonly modelTokens: Counter;
  readonly cronRuns: Counter;
  readonly channelMessages: Counter;
  readonly channelSendFailures: Counter;
  readonly bridgeDrained: Counter;
  readonly buildInfo: Gauge;
  readonly #loopDelay = monitorEventLoopDelay({ resolution: 20 });

  constructor(connectionCount: () => number) {
    const registers = [this.registry];
    this.connections = new Gauge({
      name: "gateway_connections",
      help: "Open WebSocket connections that completed the handshake",
      registers,
      collect() {
        this.set(connectionCount());
      },
    });
    this.requests = new Counter({
      name: "gateway_requests_total",
      help: "Requests by method and outcome (ok, error code)",
      labelNames: ["method", "outcome"],
      registers,
    });
    this.requestDuration = new Histogram({
      name: "gateway_request_duration_seconds",
      help: "Time from a request frame to its response",
      labelNames: ["method"],
      buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 10, 30],
      registers,
    });
    this.eventsSent = new Counter({
      name: "gateway_events_sent_total",
      help: "Event frames written to clients",
      labelNames: ["event"],
      registers,
    });
    this.eventsDropped = new Counter({
      name: "gateway_events_dropped_total",
      help: "Drop-if-slow events skipped for a client that was behind",
      labelNames: ["event"],
      registers,
    });
    this.slowConsumerCloses = new Counter({
      name: "gateway_slow_consumer_closes_total",
      help: "Clients closed because their outbound backlog passed maxBufferedBytes",
      registers,
    });
    this.authFailures = new Counter({
      name: "gateway_auth_failures_total",
      help: "Refused handshakes by reason",
      labelNames: ["reason"],
      registers,
    });
    this.handshakeEvictions = new Counter({
      name: "gateway_handshake_evictions_total",
      help: "Sockets closed before their handshake to make room for newer ones (a flood of silent sockets)",
      registers,
    });
    this.presenceBytes = new Counter({
      name: "gateway_presence_bytes_total",
      help: "Bytes of presence events written to clients (the list, times its readers)",
      registers,
    });
    this.agentRuns = new Counter({
      name: "gateway_agent_runs_total",
      help: "Agent runs by backend and outcome (stop, length, aborted, error)",
      labelNames: ["backend", "outcome"],
      registers,
    });
    this.modelDuration = new Histogram({
      name: "gateway_model_run_duration_seconds",
      help: "Duration of agent runs that called a model, by provider",
      labelNames: ["provider"],
      buckets: [0.25, 0.5, 1, 2, 4, 8, 15, 30, 60, 120, 300, 600],
      registers,
    });
    this.modelErrors = new Counter({
      name: "gateway_model_errors_total",
      help: "Runs that ended in a model error, by provider",
      labelNames: ["provider"],
      registers,
    });
    this.modelTokens = new Counter({
      name: "gateway_model_tokens_total",
      help: "Tokens by provider and direction (input, output)",
      labelNames: ["provider", "direction"],
      registers,
    });
    this.cronRuns = new Counter({
      name: "gateway_cron_runs_total",
      help: "Cron job runs by outcome (ok, error, skipped)",
      labelNames: ["outcome"],
      registers,
    });
    this.channelMessages = new Counter({
      name: "gateway_channel_messages_total",
      help: "Channel messages by direction (in, out), channel and account",
      labelNames: ["direction", "channel", "account"],
      registers,
    });
    this.channelSendFailures = new Counter({
      name: "gateway_channel_send_failures_total",
      help: "Channel sends that failed, by channel and account",
      labelNames: ["channel", "account"],
      registers,
    });
    this.bridgeDrained = new Counter({
      name: "gateway_bridge_events_drained_total",
      help: "Background events taken from Redis into the agent",
      registers,
    });
    this.buildInfo = new Gauge({
      name: "gateway_build_info",
      help: "Always 1; the labels say which gateway this is",
      labelNames: ["version", "node", "protocol"],
      registers,
    });
    this.#loopDelay.enable();
    const loopDelay = this.#loopDelay;
    new Gauge({
      name: "gateway_event_loop_delay_seconds",
      help: "Event-loop delay since the last scrape, by quantile",
      labelNames: ["quantile"],
      registers,
      collect() {
        for (const quantile of [0.5, 0.9, 0.99]) {
          const value = loopDelay.percentile(quantile * 100);
          this.set({ quantile: String(quantile) }, Number.isFinite(value) ? value / 1e9 : 0);
        }
        this.set({ quantile: "1" }, Number.isFinite(loopDelay.max) ? loopDelay.max / 1e9 : 0);
        loopDelay.reset();
      },
    });
    new Gauge({
      name: "gateway_process_resident_memory_bytes",
      help: "Resident set size of the gateway process",
      registers,
      collect() {
        this.set(process.memoryUsage.rss());
      },
    });
  }

  readonly #requestChildren = new Map<string, { count: { inc(): void }; duration: { observe(value: number): void } }>();

  /** Count one answered request; the labelled children are cached so the hot path does no label hashing. */
  countRequest(method: string, outcome: string, seconds: number): void {
    const key = `${method}\u0000${outcome}`;
    let children = this.#requestChildren.get(key);
    if (!children) {
      children = {
        count: this.requests.labels({ method, outcome }),
        duration: this.requestDuration.labels({ method }),
      };
      this.#requestChildren.set(key, children);
    }
    children.count.inc();
    children.duration.observe(seconds);
  }

  /** Say which gateway this is (`gateway_build_info`). */
  setBuildInfo(info: { version: string; protocol: string | number }): void {
    this.buildInfo.reset();
    this.buildInfo.set({ version: info.version, node: process.versions.node, protocol: String(info.protocol) }, 1);
  }

  agentRun(sample: AgentRunSample): void {
    this.agentRuns.inc({ backend: sample.backend, outcome: sample.outcome });
    const provider = sample.model?.provider;
    if (!provider) return;
    this.modelDuration.observe({ provider }, sample.durationMs / 1000);
    if (sample.outcome === "error") this.modelErrors.inc({ provider });
    if (sample.usage) {
      this.modelTokens.inc({ provider, direction: "input" }, sample.usage.inputTokens);
      this.modelTokens.inc({ provider, direction: "output" }, sample.usage.outputTokens);
    }
  }

  cronRun(outcome: string): void {
    this.cronRuns.inc({ outcome });
  }

  channelMessage(direction: "in" | "out", channel: string, account: string): void {
    this.channelMessages.inc({ direction, channel, account });
  }

  channelSendFailure(channel: string, account: string): void {
    this.channelSendFailures.inc({ channel, account });
  }

  bridgeEventsDrained(count: number): void {
    if (count > 0) this.bridgeDrained.inc(count);
  }

  /** Stop sampling the event loop. */
  close(): void {
    this.#loopDelay.disable();
  }

  /** The Prometheus text exposition. */
  render(): Promise<string> {
    return this.registry.metrics();
  }
}
