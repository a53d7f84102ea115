import {
  type CallerIdentity,
  compiledChecker,
  describeIssues,
  ErrorCodes,
  hasScope,
  isMethodName,
  type MethodCallContext,
  type MethodName,
  type MethodParams,
  type MethodResult,
  MethodTable,
  type OperatorScope,
  type CoreMethodOptions as ProtocolCoreMethodOptions,
  type Role,
  requiredScope,
  validateStrict,
} from "@gateway/protocol";
import type { Static, TSchema } from "@sinclair/typebox";
import { GatewayError, invalidRequest, ProtocolError, unavailable } from "./errors.js";
import type { IdempotencyCache } from "./idempotency.js";

/** What a handler knows about the call (the protocol's host contract). */
export type MethodContext = MethodCallContext;

/** A method handler: receives validated params, returns the result (or throws a ProtocolError, or another GatewayError). */
export type MethodHandler<P = unknown, R = unknown> = (params: P, context: MethodContext) => R | Promise<R>;

/** Options of a method that is not in the protocol's method table (a plugin's own method). */
export interface CustomMethodOptions<P extends TSchema> {
  params: P;
  scope: OperatorScope | "node";
  sideEffecting?: boolean;
  timeoutMs?: number;
  description?: string;
}

/** Per-registration overrides for a core method. */
export type CoreMethodOptions<M extends MethodName> = ProtocolCoreMethodOptions<M>;

interface Registration {
  readonly name: string;
  readonly params: TSchema;
  readonly sideEffecting: boolean;
  readonly scope: (params: unknown) => OperatorScope | "node";
  readonly staticScope: OperatorScope | "node" | undefined;
  readonly handler: MethodHandler;
  readonly timeoutMs: number | undefined;
  readonly inFlightResult: ((params: never) => unknown) | undefined;
  readonly replayResult: ((params: never, first: never) => unknown) | undefined;
}

/** The outcome of a dispatch: a result payload or a protocol error. */
export type DispatchOutcome = { ok: true; payload: unknown } | { ok: false; error: ProtocolError };

function checkScope(name: string, required: OperatorScope | "node", identity: CallerIdentity): void {
  if (required === "node") {
    if (identity.role !== "node") {
      throw new ProtocolError(ErrorCodes.FORBIDDEN, `${name} can only be called by a node connection.`);
    }
    return;
  }
  if (identity.role !== ("operator" satisfies Role)) {
    throw new ProtocolError(ErrorCodes.FORBIDDEN, `${name} is an operator method; node connections cannot call it.`);
  }
  if (!hasScope(identity.scopes, required)) {
    throw new ProtocolError(
      ErrorCodes.FORBIDDEN,
      `${name} needs the ${required} scope; this connection has ${identity.scopes.join(", ") || "no scopes"}.`,
      { details: { missingScope: required } },
    );
  }
}

/**
 * The method registry: handlers for core methods (typed from the protocol's method table) and for custom ones.
 * `dispatch` runs the request pipeline: lookup → scope → params → idempotency → handler (with a timeout).
 */
export class MethodRegistry {
  readonly #methods = new Map<string, Registration>();

  constructor(
    private readonly idempotency: IdempotencyCache,
    /** How long a handler without its own timeout may take (`requestTimeoutMs`; a config edit changes it). */
    public defaultTimeoutMs: number,
  ) {}

  /** Register the handler of a core method; params and scope come from the method table. */
  register<M extends MethodName>(
    name: M,
    handler: MethodHandler<MethodParams<M>, MethodResult<M>>,
    options?: CoreMethodOptions<M>,
  ): void;
  /** Register a custom method with its own params schema and scope. */
  register<P extends TSchema>(name: string, handler: MethodHandler<Static<P>>, options: CustomMethodOptions<P>): void;
  register(
    name: string,
    handler: MethodHandler<never, unknown>,
    options?: Partial<CustomMethodOptions<TSchema>> & CoreMethodOptions<MethodName>,
  ): void {
    if (name === "connect") throw new Error("connect is the handshake and cannot be registered as a method");
    if (this.#methods.has(name)) throw new Error(`method ${name} is already registered`);
    let registration: Registration;
    if (isMethodName(name)) {
      const definition = MethodTable[name];
      registration = {
        name,
        params: definition.params,
        sideEffecting: definition.sideEffecting,
        scope: (params) => requiredScope(name, params),
        staticScope: definition.scope === "dynamic" ? undefined : definition.scope,
        handler: handler as MethodHandler,
        timeoutMs: options?.timeoutMs,
        inFlightResult: options?.inFlightResult as Registration["inFlightResult"],
        replayResult: options?.replayResult as Registration["replayResult"],
      };
    } else {
      if (!options?.params || !options.scope) {
        throw new Error(`custom method ${name} needs options.params and options.scope`);
      }
      const scope = options.scope;
      registration = {
        name,
        params: options.params,
        sideEffecting: options.sideEffecting ?? false,
        scope: () => scope,
        staticScope: scope,
        handler: handler as MethodHandler,
        timeoutMs: options.timeoutMs,
        inFlightResult: undefined,
        replayResult: undefined,
      };
    }
    compiledChecker(registration.params);
    this.#methods.set(name, registration);
  }

  /** Whether a method has a handler. */
  has(name: string): boolean {
    return this.#methods.has(name);
  }

  /** Names of the registered methods (for `hello-ok.features.methods`). */
  names(): string[] {
    return [...this.#methods.keys()];
  }

  /**
   * Run one request through the pipeline. Never throws: every failure becomes a protocol error. A synchronous
   * handler's outcome is returned synchronously (no promise, no microtask hop); an asynchronous one as a promise.
   */
  dispatch(
    method: string,
    rawParams: unknown,
    context: Omit<MethodContext, "signal">,
    shutdownSignal: AbortSignal,
  ): DispatchOutcome | Promise<DispatchOutcome> {
    const fail = (error: unknown): DispatchOutcome => this.#failure(error, method, context);
    const succeed = (payload: unknown): DispatchOutcome => ({ ok: true, payload });
    try {
      const registration = this.#methods.get(method);
      if (!registration) throw invalidRequest(`unknown method: ${method}`);
      if (registration.staticScope) checkScope(method, registration.staticScope, context.identity);
      const validation = validateStrict(registration.params, rawParams ?? {});
      if (!validation.ok) {
        throw invalidRequest(`invalid params for ${method}: ${describeIssues(validation.issues)}`, {
          issues: validation.issues,
        });
      }
      const params = validation.value;
      if (!registration.staticScope) checkScope(method, registration.scope(params), context.identity);
      if (!registration.sideEffecting) {
        const result = this.#execute(registration, params, context, shutdownSignal);
        return isPromiseLike(result) ? Promise.resolve(result).then(succeed, fail) : succeed(result);
      }
      const key = (params as { idempotencyKey: string }).idempotencyKey;
      if (registration.inFlightResult && this.idempotency.isInFlight(method, key)) {
        return succeed(registration.inFlightResult(params as never));
      }
      const inFlight = registration.inFlightResult;
      return this.idempotency
        .run(
          method,
          key,
          async () => this.#execute(registration, params, context, shutdownSignal),
          inFlight && (() => inFlight(params as never)),
        )
        .then(
          ({ result, replay }) =>
            succeed(
              replay && registration.replayResult
                ? registration.replayResult(params as never, result as never)
                : result,
            ),
          fail,
        );
    } catch (error) {
      return fail(error);
    }
  }

  #failure(error: unknown, method: string, context: Omit<MethodContext, "signal">): DispatchOutcome {
    // A gateway error says what failed in words meant for people; anything else is a bug, logged, answered generically.
    if (ProtocolError.isInstance(error)) return { ok: false, error };
    if (GatewayError.isInstance(error)) {
      context.logger.warn({ err: error, method, requestId: context.requestId }, `method ${method} failed`);
      return { ok: false, error: error.toProtocolError() };
    }
    context.logger.error({ err: error, method, requestId: context.requestId }, `method ${method} failed`);
    return {
      ok: false,
      error: unavailable(`${method} failed on the gateway; see the gateway log (request ${context.requestId}).`),
    };
  }

  /**
   * Run the handler. A synchronous handler is answered directly; only a pending promise gets a timeout, and the abort
   * signal (linked to shutdown) is created only when the handler reads it: the hot path allocates no timers.
   */
  #execute(
    registration: Registration,
    params: unknown,
    context: Omit<MethodContext, "signal">,
    shutdownSignal: AbortSignal,
  ): unknown {
    let controller: AbortController | undefined;
    let unlink: (() => void) | undefined;
    const signal = () => {
      if (!controller) {
        const created = new AbortController();
        controller = created;
        const onShutdown = () => created.abort(shutdownSignal.reason);
        if (shutdownSignal.aborted) onShutdown();
        else {
          shutdownSignal.addEventListener("abort", onShutdown, { once: true });
          unlink = () => shutdownSignal.removeEventListener("abort", onShutdown);
        }
      }
      return controller.signal;
    };
    const handlerContext = Object.defineProperty({ ...context }, "signal", { get: signal, enumerable: true });
    const result = registration.handler(params as never, handlerContext as MethodContext);
    if (!isPromiseLike(result)) {
      unlink?.();
      return result;
    }
    const timeoutMs = registration.timeoutMs ?? this.defaultTimeoutMs;
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        const error = unavailable(`${registration.name} did not answer within ${timeoutMs} ms.`);
        signal();
        controller!.abort(error);
        reject(error);
      }, timeoutMs);
    });
    return Promise.race([result, timeout]).finally(() => {
      clearTimeout(timer);
      unlink?.();
    });
  }
}

/** Whether a value is a promise (or any thenable). */
export function isPromiseLike(value: unknown): value is PromiseLike<unknown> {
  return typeof (value as { then?: unknown } | null)?.then === "function";
}
