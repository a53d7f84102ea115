import type { CronStore, Job, JobChange, RunRecord, RunRequest, StartedRecord } from "@gateway/cron";
import { CronJob, CronJobState, CronRunLogEntry } from "@gateway/protocol";
import { Type } from "@sinclair/typebox";
import { TypeCompiler } from "@sinclair/typebox/compiler";
import type { Redis } from "ioredis";

// What is read back from Redis is checked before the scheduler trusts it (another version, a hand edit, a bug).
const definitionCheck = TypeCompiler.Compile(Type.Omit(CronJob, ["state"]));
const stateCheck = TypeCompiler.Compile(CronJobState);
const startedCheck = TypeCompiler.Compile(
  Type.Object(
    {
      action: Type.Literal("started"),
      ts: Type.Number(),
      jobId: Type.String({ minLength: 1 }),
      runId: Type.String({ minLength: 1 }),
      dueAtMs: Type.Optional(Type.Number()),
      retryOf: Type.Optional(Type.String()),
      by: Type.Optional(Type.String()),
    },
    { additionalProperties: false },
  ),
);
const finishedCheck = TypeCompiler.Compile(CronRunLogEntry);
const requestCheck = TypeCompiler.Compile(
  Type.Object({ jobId: Type.String({ minLength: 1 }), runId: Type.String({ minLength: 1 }) }),
);

// A scheduler's state write lands only while the job's definition is the one it knows (an edit made meanwhile on
// another instance wins) and, when it names a lease, while that lease is still its own (a scheduler that lost its
// lease, paused past it, writes nothing).
const PUT_STATE = `
if redis.call('HGET', KEYS[1], ARGV[1]) ~= ARGV[2] then return 0 end
if ARGV[4] ~= '' and redis.call('GET', KEYS[3]) ~= ARGV[4] then return 0 end
redis.call('HSET', KEYS[2], ARGV[1], ARGV[3])
return 1`;

// The claim of a job holds "<due time>|<run id>" of the last run started. A run may start for a later due time, or
// for the same one when it names the run holding it (the re-run of an interrupted run); never twice for one.
const CLAIM_START = `
local held = redis.call('GET', KEYS[1])
if held then
  local bar = string.find(held, '|', 1, true)
  local due = tonumber(string.sub(held, 1, bar - 1))
  local wanted = tonumber(ARGV[1])
  if wanted < due or (wanted == due and ARGV[3] ~= string.sub(held, bar + 1)) then return 0 end
end
redis.call('SET', KEYS[1], ARGV[1] .. '|' .. ARGV[2])
redis.call('RPUSH', KEYS[2], ARGV[4])
redis.call('LTRIM', KEYS[2], -tonumber(ARGV[5]), -1)
redis.call('SADD', KEYS[3], KEYS[2])
return 1`;

/** Options of the shared cron store. */
export interface RedisCronStoreOptions {
  /** Keys live under `<keyPrefix>cron:`. */
  keyPrefix: string;
  /** Records kept in each job's run log. @default 2000 */
  maxRecords?: number;
  /** Told of what in Redis could not be used (it is left out, never overwritten). */
  onProblem?: (message: string) => void;
}

/**
 * The cron jobs and run logs of a fleet in Redis, so that a job added, edited or removed on any instance is the same
 * job everywhere and `cron.runs` shows the same history on each. A job is three hash fields — its definition, its
 * scheduling state (written only by the instance running the scheduler, fenced by its lease) and when it was last
 * edited — so an edit and a run finishing at the same moment never undo each other. Every job change bumps a
 * revision and is published on a channel, for the other instances to take in.
 */
export class RedisCronStore implements CronStore {
  #revision: string | null | undefined;
  #fence: { key: string; value: string } | undefined;

  constructor(
    private readonly redis: Redis,
    readonly options: RedisCronStoreOptions,
  ) {}

  #key(name: string): string {
    return `${this.options.keyPrefix}cron:${name}`;
  }

  #log(jobId: string): string {
    return this.#key(`runs:${jobId}`);
  }

  get location(): string {
    return `redis ${this.#key("jobs")}`;
  }

  /** The pub/sub channel that says the jobs changed. */
  get channel(): string {
    return this.#key("changed");
  }

  /** State writes from now on count only while `lease` (its key and value) is held; undefined: not fenced. */
  fence(lease: { key: string; value: string } | undefined): void {
    this.#fence = lease;
  }

  async load(): Promise<Job[]> {
    const results = await this.redis
      .multi()
      .get(this.#key("revision"))
      .hgetall(this.#key("jobs"))
      .hgetall(this.#key("state"))
      .exec();
    const [revision, definitions, states] = values(results) as [
      string | null,
      Record<string, string>,
      Record<string, string>,
    ];
    this.#revision = revision;
    const jobs: Job[] = [];
    for (const [id, text] of Object.entries(definitions)) {
      const definition = this.#parse(text, (value) => definitionCheck.Check(value), `job ${id}`);
      if (!definition) continue;
      const state =
        states[id] === undefined
          ? {}
          : this.#parse(states[id], (value) => stateCheck.Check(value), `state of job ${id}`);
      jobs.push({ ...(definition as Omit<Job, "state">), state: (state ?? {}) as Job["state"] });
    }
    return jobs.sort((a, b) => a.createdAtMs - b.createdAtMs || a.id.localeCompare(b.id));
  }

  async changed(): Promise<boolean> {
    return (await this.redis.get(this.#key("revision"))) !== this.#revision;
  }

  async save(_all: readonly Job[], change: JobChange): Promise<void> {
    const multi = this.redis.multi();
    for (const job of change.put ?? []) {
      const { state, ...definition } = job;
      multi
        .hset(this.#key("jobs"), job.id, JSON.stringify(definition))
        .hset(this.#key("state"), job.id, JSON.stringify(state))
        .hset(this.#key("edited"), job.id, String(job.updatedAtMs));
    }
    for (const job of change.state ?? [])
      multi.eval(
        PUT_STATE,
        3,
        this.#key("edited"),
        this.#key("state"),
        this.#fence?.key ?? this.#key("unfenced"),
        job.id,
        String(job.updatedAtMs),
        JSON.stringify(job.state),
        this.#fence?.value ?? "",
      );
    for (const id of change.removed ?? [])
      multi
        .hdel(this.#key("jobs"), id)
        .hdel(this.#key("state"), id)
        .hdel(this.#key("edited"), id)
        .del(this.#key(`claim:${id}`));
    multi.incr(this.#key("revision")).publish(this.channel, "jobs");
    values(await multi.exec());
  }

  /**
   * Copy jobs of a local file into the shared store, each id once ever: a job already there is kept, and one removed
   * through `cron.remove` is not brought back by an instance that still has it on disk. Resolves with those copied.
   */
  async importOnce(jobs: readonly Job[]): Promise<Job[]> {
    const copied: Job[] = [];
    for (const job of jobs) {
      if ((await this.redis.sadd(this.#key("imported"), job.id)) === 0) continue;
      const { state, ...definition } = job;
      const results = await this.redis
        .multi()
        .hsetnx(this.#key("jobs"), job.id, JSON.stringify(definition))
        .hsetnx(this.#key("state"), job.id, JSON.stringify(state))
        .hsetnx(this.#key("edited"), job.id, String(job.updatedAtMs))
        .exec();
      if (values(results)[0] === 1) copied.push(job);
    }
    if (copied.length > 0) await this.redis.multi().incr(this.#key("revision")).publish(this.channel, "jobs").exec();
    return copied;
  }

  async append(record: RunRecord): Promise<void> {
    const log = this.#log(record.jobId);
    values(
      await this.redis
        .multi()
        .rpush(log, JSON.stringify(record))
        .ltrim(log, -this.#maxRecords, -1)
        .sadd(this.#key("logs"), log)
        .exec(),
    );
  }

  get #maxRecords(): number {
    return this.options.maxRecords ?? 2_000;
  }

  async claimStart(record: StartedRecord & { dueAtMs: number }): Promise<boolean> {
    const claimed = await this.redis.eval(
      CLAIM_START,
      3,
      this.#key(`claim:${record.jobId}`),
      this.#log(record.jobId),
      this.#key("logs"),
      record.dueAtMs,
      record.runId,
      record.retryOf ?? "",
      JSON.stringify(record),
      this.#maxRecords,
    );
    return Number(claimed) === 1;
  }

  async records(jobId: string): Promise<RunRecord[]> {
    return this.#records(this.#log(jobId), await this.redis.lrange(this.#log(jobId), 0, -1));
  }

  async allRecords(): Promise<RunRecord[]> {
    const logs = await this.redis.smembers(this.#key("logs"));
    if (logs.length === 0) return [];
    const pipeline = this.redis.pipeline();
    for (const log of logs) pipeline.lrange(log, 0, -1);
    const lists = values(await pipeline.exec()) as string[][];
    return logs.flatMap((log, index) => this.#records(log, lists[index] ?? []));
  }

  async archive(jobId: string): Promise<void> {
    const log = this.#log(jobId);
    if ((await this.redis.exists(log)) === 0) return;
    const archived = `${log}:removed-${Date.now()}`;
    values(
      await this.redis
        .multi()
        .rename(log, archived)
        .srem(this.#key("logs"), log)
        .sadd(this.#key("logs"), archived)
        .exec(),
    );
  }

  async requestRun(request: RunRequest): Promise<void> {
    values(
      await this.redis
        .multi()
        .rpush(this.#key("requests"), JSON.stringify(request))
        .publish(this.channel, "run")
        .exec(),
    );
  }

  async takeRunRequests(): Promise<RunRequest[]> {
    const [texts] = values(
      await this.redis.multi().lrange(this.#key("requests"), 0, -1).del(this.#key("requests")).exec(),
    ) as [string[]];
    return texts.flatMap((text) => {
      const request = this.#parse(text, (value) => requestCheck.Check(value), "a cron.run request");
      return request ? [request as RunRequest] : [];
    });
  }

  /** Call `onChange` whenever another instance changes the jobs or asks for a run; resolves with how to stop. */
  async watch(onChange: () => void): Promise<() => void> {
    const subscriber = this.redis.duplicate();
    subscriber.on("error", () => {}); // reconnects by itself; the periodic sync covers what it missed meanwhile
    subscriber.on("message", (channel) => {
      if (channel === this.channel) onChange();
    });
    await subscriber.subscribe(this.channel);
    return () => subscriber.disconnect();
  }

  #records(log: string, texts: readonly string[]): RunRecord[] {
    return texts.flatMap((text) => {
      const record = this.#parse(
        text,
        (value) => startedCheck.Check(value) || finishedCheck.Check(value),
        `a record of ${log}`,
      );
      return record ? [record as RunRecord] : [];
    });
  }

  #parse(text: string, check: (value: unknown) => boolean, what: string): unknown {
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch {
      value = undefined;
    }
    if (value !== undefined && check(value)) return value;
    this.options.onProblem?.(
      `cron: ${what} in Redis is not what this version reads (${text.slice(0, 120)}); it is left out — remove or repair it in Redis`,
    );
    return undefined;
  }
}

/** The results of a MULTI or pipeline; the first command's error is thrown. */
function values(results: Array<[Error | null, unknown]> | null): unknown[] {
  if (!results) throw new Error("the Redis transaction was aborted");
  return results.map(([error, value]) => {
    if (error) throw error;
    return value;
  });
}
