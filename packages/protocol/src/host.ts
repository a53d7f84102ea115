// The contract between the server and the packages that plug into it (agent, cron, channels, pairing): methods are
// registered typed from the method table, events broadcast typed from the event table. The server implements it;
// the others take it, so nothing at the seams needs a cast.
import type { ClientInfo } from "./connect.js";
import type { EventName, EventPayload } from "./events.js";
import type { MethodName, MethodParams, MethodResult } from "./method-table.js";
import type { OperatorScope, Role } from "./scopes.js";

/** Who is calling: the role and scopes the handshake granted, the client's own description, its device. */
export interface CallerIdentity {
  readonly role: Role;
  readonly scopes: readonly OperatorScope[];
  readonly client: ClientInfo;
  readonly deviceId?: string;
}

/** A structured logger (the pino-compatible subset handlers use). */
export interface HostLogger {
  debug(object: unknown, message?: string): void;
  info(object: unknown, message?: string): void;
  warn(object: unknown, message?: string): void;
  error(object: unknown, message?: string): void;
}

/** What a method handler knows about the call. */
export interface MethodCallContext {
  readonly connectionId: string;
  readonly identity: CallerIdentity;
  readonly remoteAddress: string;
  readonly requestId: string;
  /** Aborted when the request times out or the gateway shuts down. */
  readonly signal: AbortSignal;
  readonly logger: HostLogger;
  /** Two-phase methods (`agent`): send the first answer now; the handler's return value is the second. */
  accept(payload: unknown): void;
}

/** The handler of a core method: validated params in, the method's result out (or a thrown GatewayError). */
export type CoreMethodHandler<M extends MethodName> = (
  params: MethodParams<M>,
  context: MethodCallContext,
) => MethodResult<M> | Promise<MethodResult<M>>;

/** Per-registration settings of a core method. */
export interface CoreMethodOptions<M extends MethodName> {
  /** @default the server's request timeout */
  timeoutMs?: number;
  /** Answer for a retry that arrives while the first call is still running, instead of waiting for it. */
  inFlightResult?: (params: MethodParams<M>) => MethodResult<M>;
  /** Shape what a retry gets once the first call answered (e.g. `in_flight` while the run it started goes on). */
  replayResult?: (params: MethodParams<M>, first: MethodResult<M>) => MethodResult<M>;
}

/** What packages register methods on and broadcast events through. */
export interface GatewayHost {
  registerMethod<M extends MethodName>(name: M, handler: CoreMethodHandler<M>, options?: CoreMethodOptions<M>): void;
  /** Send an event to every connection in its audience; returns how many frames were written. */
  broadcast<E extends EventName>(event: E, payload: EventPayload<E>): number;
}
