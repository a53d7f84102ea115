import { performance } from "node:perf_hooks";
import { ErrorCodes, type GatewayFrame, parseFrame, type RequestFrame } from "@gateway/protocol";
import type { RawData } from "ws";
import type { GatewayConnection } from "./connection.js";
import { ProtocolError } from "./errors.js";
import { type DispatchOutcome, isPromiseLike, type MethodContext } from "./method-registry.js";
import type { ServerContext } from "./server-context.js";

/** A response to send: a payload, or a protocol error. */
export type ResponseOutcome = { ok: true; payload: unknown } | { ok: false; error: ProtocolError };

/** The `id` of a request frame that failed validation, when it can be read, so the error can answer it. */
function recoverRequestId(text: string): string | undefined {
  try {
    const value = JSON.parse(text) as { id?: unknown };
    return typeof value?.id === "string" && value.id.length > 0 && value.id.length <= 256 ? value.id : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Frames of connected clients → the method registry → responses: the frame is parsed within the payload limit, a
 * request runs through the registry (scope, params, idempotency, the handler), its answer goes back under the same
 * id, and asynchronous handlers are tracked so shutdown can let them finish. A client whose backlog grows past the
 * limit is closed as a slow consumer.
 */
export class RequestDispatcher {
  readonly #inFlight = new Set<Promise<unknown>>();

  constructor(private readonly context: ServerContext) {}

  /** Requests still running (shutdown waits for them, bounded). */
  get inFlight(): ReadonlySet<Promise<unknown>> {
    return this.#inFlight;
  }

  /** A frame from a client that completed the handshake. */
  onFrame(connection: GatewayConnection, data: string | RawData, isBinary: boolean): void {
    const parsed = parseFrame(isBinary ? data : (data as string), { maxBytes: this.context.options().maxPayload });
    if (!parsed.ok) {
      // Answer the request when its id is readable (the JSON parsed but the frame was wrong); otherwise close.
      const readable = parsed.error.code === "INVALID_FRAME" || parsed.error.code === "FORBIDDEN_KEY";
      const id = readable ? recoverRequestId(data as string) : undefined;
      if (id !== undefined) {
        this.respond(connection, id, {
          ok: false,
          error: new ProtocolError(ErrorCodes.INVALID_REQUEST, `invalid frame: ${parsed.error.message}`),
        });
      } else {
        connection.close(1008, `invalid frame: ${parsed.error.message}`);
      }
      return;
    }
    const frame: GatewayFrame = parsed.frame;
    if (frame.type !== "req") {
      this.context.logger.debug({ connId: connection.id, type: frame.type }, "ignoring a non-request frame");
      return;
    }
    this.#request(connection, frame);
  }

  #request(connection: GatewayConnection, frame: RequestFrame): void {
    const { registry, metrics, lifecycle, logger } = this.context;
    if (frame.method === "connect") {
      this.respond(connection, frame.id, {
        ok: false,
        error: new ProtocolError(
          ErrorCodes.INVALID_REQUEST,
          "already connected: connect is only valid as the first frame",
        ),
      });
      return;
    }
    if (lifecycle.closing) {
      this.respond(connection, frame.id, {
        ok: false,
        error: new ProtocolError(ErrorCodes.UNAVAILABLE, "the gateway is shutting down; reconnect shortly", {
          retryable: true,
        }),
      });
      return;
    }
    const started = performance.now();
    const methodContext: Omit<MethodContext, "signal"> = {
      connectionId: connection.id,
      identity: connection.identity!,
      remoteAddress: connection.remoteAddress,
      requestId: frame.id,
      logger,
      accept: (payload) => this.respond(connection, frame.id, { ok: true, payload }),
    };
    const finish = (outcome: DispatchOutcome) => {
      this.respond(connection, frame.id, outcome);
      const method = registry.has(frame.method) ? frame.method : "unknown";
      metrics.countRequest(method, outcome.ok ? "ok" : outcome.error.code, (performance.now() - started) / 1000);
    };
    const outcome = registry.dispatch(frame.method, frame.params, methodContext, this.context.shutdownSignal);
    if (!isPromiseLike(outcome)) {
      finish(outcome);
      return;
    }
    const promise = Promise.resolve(outcome).then(finish);
    this.#inFlight.add(promise);
    void promise.finally(() => this.#inFlight.delete(promise));
  }

  /** Send a response frame; a client that falls too far behind is closed as a slow consumer. */
  respond(connection: GatewayConnection, id: string, outcome: ResponseOutcome): void {
    const frame = outcome.ok
      ? outcome.payload === undefined
        ? { type: "res", id, ok: true }
        : { type: "res", id, ok: true, payload: outcome.payload }
      : { type: "res", id, ok: false, error: outcome.error.toShape() };
    connection.sendText(JSON.stringify(frame));
    if (connection.bufferedBytes > this.context.options().maxBufferedBytes) this.closeSlowConsumer(connection);
  }

  closeSlowConsumer(connection: GatewayConnection): void {
    if (connection.state === "closing") return;
    this.context.metrics.slowConsumerCloses.inc();
    this.context.logger.warn(
      { connId: connection.id, remote: connection.remoteAddress, bufferedBytes: connection.bufferedBytes },
      "closing slow consumer",
    );
    connection.close(1008, "slow consumer", 500);
  }
}
