import { Counter, Gauge, Histogram, Registry } from "prom-client";

/** The gateway's Prometheus metrics, in a registry of its own (two servers in one process never share one). */
export class GatewayMetrics {
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

  /** The Prometheus text exposition. */
  render(): Promise<string> {
    return this.registry.metrics();
  }
}
