import { randomUUID } from "node:crypto";
import { type Static, type TSchema, Type } from "@sinclair/typebox";
import { TypeCompiler } from "@sinclair/typebox/compiler";
import type { Redis } from "ioredis";

/** Why a call failed: the target is not serving (gone, never there), it did not answer in time, or its handler threw. */
export type FleetRpcErrorKind = "unavailable" | "timeout" | "remote";

/** A failed call, with what to tell the user (`kind` says whether another instance or a retry may help). */
export class FleetRpcError extends Error {
  override readonly name = "FleetRpcError";
  constructor(
    readonly kind: FleetRpcErrorKind,
    message: string,
    /** A remote handler's error code, when it gave one (a GatewayError's). */
    readonly code?: string,
  ) {
    super(message);
  }
}

/** A handler of calls to one method on this instance; what it throws goes back to the caller as a `remote` error. */
export type FleetRpcHandler = (params: unknown, call: { from: string }) => Promise<unknown> | unknown;

/** Options of a FleetRpc. */
export interface FleetRpcOptions {
  /** This instance's id: calls to it arrive in `<keyPrefix>rpc:<id>`. */
  id: string;
  keyPrefix: string;
  /** How long this instance counts as serving after its last beat; callers give up on it after that. @default 3000 */
  aliveMs?: number;
  /** Told of a Redis error in the serve loop (it retries by itself). */
  onError?: (error: Error) => void;
}

/** Options of one call. */
export interface FleetCallOptions {
  /** @default 5000 */
  timeoutMs?: number;
  /** The result's shape: an answer that does not match is refused (`remote`). */
  result?: TSchema;
  /** Give up early (the caller learnt another way that the call is moot). */
  signal?: AbortSignal;
}

const Request = Type.Object({
  id: Type.String({ minLength: 1 }),
  from: Type.String({ minLength: 1 }),
  method: Type.String({ minLength: 1 }),
  params: Type.Unknown(),
  /** Epoch ms after which the caller no longer waits: the request is dropped unhandled. */
  deadline: Type.Number(),
});
const Reply = Type.Object({
  id: Type.String({ minLength: 1 }),
  ok: Type.Boolean(),
  result: Type.Optional(Type.Unknown()),
  error: Type.Optional(Type.Object({ message: Type.String(), code: Type.Optional(Type.String()) })),
});
const checkRequest = TypeCompiler.Compile(Request);
const checkReply = TypeCompiler.Compile(Reply);
const checkers = new WeakMap<TSchema, ReturnType<typeof TypeCompiler.Compile>>();
function checker(schema: TSchema): ReturnType<typeof TypeCompiler.Compile> {
  let check = checkers.get(schema);
  if (!check) {
    check = TypeCompiler.Compile(schema);
    checkers.set(schema, check);
  }
  return check;
}

// Push a request only while its target says it serves (one round trip; a dead target's queue gets nothing new).
const PUSH_IF_ALIVE = `
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
redis.call('RPUSH', KEYS[2], ARGV[1])
redis.call('PEXPIRE', KEYS[2], ARGV[2])
return 1`;

/** How long unread replies stay (a caller that died never reads its own). */
const REPLY_TTL_MS = 60_000;

interface Pending {
  resolve(value: unknown): void;
  reject(error: FleetRpcError): void;
  result?: TSchema;
}

/**
 * Calls between fleet instances over Redis: each instance reads one list (`<prefix>rpc:<id>`) for requests and
 * replies to it alike, with a blocking BLPOP on its own connection; a call is one RPUSH to the target's list (only
 * while the target's `alive` key says it serves) and its reply one RPUSH back. A call fails with a FleetRpcError:
 * `unavailable` when the target is not serving or stops mid-call, `timeout`, or `remote` for what its handler threw.
 */
export class FleetRpc {
  readonly #handlers = new Map<string, { handler: FleetRpcHandler; params?: TSchema }>();
  readonly #pending = new Map<string, Pending>();
  readonly #aliveMs: number;
  #reader: Redis | undefined;
  #beat: NodeJS.Timeout | undefined;
  #closed = false;
  #loop: Promise<void> | undefined;

  constructor(
    private readonly redis: Redis,
    readonly options: FleetRpcOptions,
  ) {
    this.#aliveMs = options.aliveMs ?? 3_000;
  }

  #queue(id: string): string {
    return `${this.options.keyPrefix}rpc:${id}`;
  }
  #alive(id: string): string {
    return `${this.options.keyPrefix}rpc:${id}:alive`;
  }

  /** Calls waiting for their reply now. */
  get pending(): number {
    return this.#pending.size;
  }

  /** Answer calls of `method` with `handler`; `params` (when given) is checked before the handler sees a call. */
  serve(method: string, handler: FleetRpcHandler, options: { params?: TSchema } = {}): void {
    if (this.#handlers.has(method)) throw new Error(`fleet rpc: ${method} is already served`);
    if (options.params) checker(options.params);
    this.#handlers.set(method, { handler, ...(options.params ? { params: options.params } : {}) });
  }

  /** Start reading requests and replies, and say this instance serves (every third of `aliveMs`). */
  async start(): Promise<void> {
    if (this.#loop) return;
    this.#reader = this.redis.duplicate();
    this.#reader.on("error", (error: Error) => this.options.onError?.(error));
    const beat = () =>
      this.redis.set(this.#alive(this.options.id), "1", "PX", this.#aliveMs).catch((error: Error) => {
        this.options.onError?.(error);
      });
    await beat();
    this.#beat = setInterval(beat, Math.max(50, Math.floor(this.#aliveMs / 3)));
    this.#beat.unref();
    this.#loop = this.#read(this.#reader);
  }

  async #read(reader: Redis): Promise<void> {
    const queue = this.#queue(this.options.id);
    while (!this.#closed) {
      let item: [string, string] | null;
      try {
        item = await reader.blpop(queue, 2);
      } catch (error) {
        if (this.#closed) return;
        this.options.onError?.(error as Error);
        await new Promise((resolve) => setTimeout(resolve, 200));
        continue;
      }
      if (item) this.#receive(item[1]);
    }
  }

  #receive(text: string): void {
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch {
      this.options.onError?.(new Error("fleet rpc: dropped a message that is not JSON"));
      return;
    }
    if (checkReply.Check(value)) this.#settle(value);
    else if (checkRequest.Check(value)) void this.#handle(value);
    else this.options.onError?.(new Error("fleet rpc: dropped a message that is neither a request nor a reply"));
  }

  #settle(reply: Static<typeof Reply>): void {
    const pending = this.#pending.get(reply.id);
    if (!pending) return; // timed out already
    this.#pending.delete(reply.id);
    if (!reply.ok)
      pending.reject(new FleetRpcError("remote", reply.error?.message ?? "the call failed", reply.error?.code));
    else if (pending.result && !checker(pending.result).Check(reply.result))
      pending.reject(new FleetRpcError("remote", "the answer does not have the expected shape"));
    else pending.resolve(reply.result);
  }

  async #handle(request: Static<typeof Request>): Promise<void> {
    // The caller stopped waiting (this instance was away, or restarted under the same id): doing it now would surprise.
    if (Date.now() > request.deadline) return;
    const served = this.#handlers.get(request.method);
    let reply: Static<typeof Reply>;
    if (!served) reply = { id: request.id, ok: false, error: { message: `${request.method} is not served here` } };
    else if (served.params && !checker(served.params).Check(request.params))
      reply = { id: request.id, ok: false, error: { message: `invalid params for ${request.method}` } };
    else {
      try {
        const result = await served.handler(request.params, { from: request.from });
        reply = { id: request.id, ok: true, ...(result !== undefined ? { result } : {}) };
      } catch (error) {
        const code = (error as { code?: unknown }).code;
        reply = {
          id: request.id,
          ok: false,
          error: { message: (error as Error).message, ...(typeof code === "string" ? { code } : {}) },
        };
      }
    }
    const queue = this.#queue(request.from);
    await this.redis
      .multi()
      .rpush(queue, JSON.stringify(reply))
      .pexpire(queue, REPLY_TTL_MS)
      .exec()
      .catch((error: Error) => this.options.onError?.(error));
  }

  /** Call `method` on instance `target`; resolves with its handler's result. */
  call(target: string, method: string, params: unknown, options: FleetCallOptions = {}): Promise<unknown> {
    if (this.#closed) return Promise.reject(new FleetRpcError("unavailable", "this instance is stopping"));
    if (!this.#loop) return Promise.reject(new Error("fleet rpc: start() before call()"));
    const timeoutMs = options.timeoutMs ?? 5_000;
    const id = randomUUID();
    const request: Static<typeof Request> = {
      id,
      from: this.options.id,
      method,
      params,
      deadline: Date.now() + timeoutMs,
    };
    return new Promise<unknown>((resolve, reject) => {
      let timer: NodeJS.Timeout | undefined;
      let watch: NodeJS.Timeout | undefined;
      const finish = () => {
        clearTimeout(timer);
        clearInterval(watch);
        options.signal?.removeEventListener("abort", onAbort);
        this.#pending.delete(id);
      };
      const fail = (error: FleetRpcError) => {
        if (!this.#pending.has(id)) return;
        finish();
        reject(error);
      };
      const onAbort = () => fail(new FleetRpcError("unavailable", `the call of ${method} on ${target} was abandoned`));
      this.#pending.set(id, {
        resolve: (value) => {
          finish();
          resolve(value);
        },
        reject: (error) => {
          finish();
          reject(error);
        },
        ...(options.result ? { result: options.result } : {}),
      });
      if (options.signal?.aborted) return onAbort();
      options.signal?.addEventListener("abort", onAbort, { once: true });
      timer = setTimeout(
        () => fail(new FleetRpcError("timeout", `instance ${target} did not answer ${method} within ${timeoutMs} ms`)),
        timeoutMs,
      );
      // A target that dies mid-call stops beating: give up once its alive key is gone (within 1.5 × aliveMs), not only
      // at the timeout.
      watch = setInterval(
        () => {
          this.redis.exists(this.#alive(target)).then(
            (alive) => {
              if (alive === 0) fail(gone(target, method, "stopped serving during the call"));
            },
            () => {}, // Redis away: the timeout decides
          );
        },
        Math.max(50, Math.floor(this.#aliveMs / 2)),
      );
      watch.unref();
      this.redis
        .eval(PUSH_IF_ALIVE, 2, this.#alive(target), this.#queue(target), JSON.stringify(request), timeoutMs + 1_000)
        .then(
          (pushed) => {
            if (Number(pushed) === 0) fail(gone(target, method, "is not serving"));
          },
          (error: Error) =>
            fail(new FleetRpcError("unavailable", `cannot reach Redis to call ${target}: ${error.message}`)),
        );
    });
  }

  /** Stop serving: pending calls fail as `unavailable`, the alive key goes (callers give up at once). */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    clearInterval(this.#beat);
    for (const pending of [...this.#pending.values()])
      pending.reject(new FleetRpcError("unavailable", "this instance is stopping"));
    this.#pending.clear();
    // Redis away: callers find out by the key's expiry instead; do not hold up the stop.
    await Promise.race([
      this.redis.del(this.#alive(this.options.id)).catch(() => {}),
      new Promise((resolve) => setTimeout(resolve, 1_000).unref()),
    ]);
    this.#reader?.disconnect();
    await this.#loop;
  }
}

function gone(target: string, method: string, what: string): FleetRpcError {
  return new FleetRpcError(
    "unavailable",
    `instance ${target} ${what} (${method}); it is gone or restarting — \`gateway status --fleet\` lists the instances`,
  );
}
