import type { CronAddParams, CronJob, CronJobPatch } from "@gateway/protocol";
import { connectIfRunning } from "../connection.js";
import { CliError, type Command, type CommandContext, ExitCode } from "../context.js";
import { localCronJobs, sayOffline } from "../local-state.js";
import { duration, printJson, table } from "../output.js";
import { didYouMean } from "../suggest.js";

const USAGE = `gateway cron list [--all]
       gateway cron add --name <name> (--cron "<expr>" [--tz <zone>] | --every <15m> | --at <2026-12-01T09:00>)
                        (--message <text> | --system <text>) [--wake now|next-heartbeat] [--keep]
                        [--deliver webhook --to <url> | --deliver announce --channel <id> --to <peer>] [--disabled]
       gateway cron edit <id> [any add flag] [--enable | --disable]
       gateway cron rm <id> | run <id> [--due] | runs [<id>] [--limit N]`;

/** `15m`, `2h`, `30s`, `1d`, `500ms`. */
function durationMs(text: string): number {
  const match = /^(\d+(?:\.\d+)?)\s*(ms|s|m|h|d)$/.exec(text.trim());
  if (!match) throw new CliError(`--every "${text}": use 30s, 15m, 2h or 1d`, ExitCode.usage);
  return Math.round(Number(match[1]) * { ms: 1, s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 }[match[2] as "ms"]);
}

const str = (value: string | boolean | undefined) => (typeof value === "string" ? value : undefined);

/** The schedule, payload and delivery the flags describe (only what was given). */
function fromFlags(flags: CommandContext["flags"]): Partial<CronAddParams> {
  const result: Partial<CronAddParams> = {};
  const kinds = ["cron", "every", "at"].filter((kind) => str(flags[kind]) !== undefined);
  if (kinds.length > 1) throw new CliError("give one of --cron, --every, --at", ExitCode.usage);
  if (str(flags.cron))
    result.schedule = { kind: "cron", expr: str(flags.cron)!, ...(str(flags.tz) ? { tz: str(flags.tz)! } : {}) };
  if (str(flags.every)) result.schedule = { kind: "every", everyMs: durationMs(str(flags.every)!) };
  if (str(flags.at)) {
    // A time without a zone is local time here, like `date` would read it.
    const at = new Date(str(flags.at)!);
    if (Number.isNaN(at.getTime()))
      throw new CliError(`--at "${flags.at}" is not a time (2026-12-01T09:00)`, ExitCode.usage);
    result.schedule = { kind: "at", at: at.toISOString() };
  }
  if (str(flags.message) && str(flags.system))
    throw new CliError("give --message or --system, not both", ExitCode.usage);
  if (str(flags.message)) {
    result.payload = { kind: "agentTurn", message: str(flags.message)! };
    result.sessionTarget = "isolated";
  }
  if (str(flags.system)) {
    result.payload = { kind: "systemEvent", text: str(flags.system)! };
    result.sessionTarget = "main";
  }
  if (str(flags.wake)) {
    if (flags.wake !== "now" && flags.wake !== "next-heartbeat")
      throw new CliError("--wake is now or next-heartbeat", ExitCode.usage);
    result.wakeMode = flags.wake;
  }
  if (str(flags.deliver)) {
    const mode = str(flags.deliver)!;
    if (mode !== "webhook" && mode !== "announce" && mode !== "none")
      throw new CliError("--deliver is none, announce or webhook", ExitCode.usage);
    result.delivery = {
      mode,
      ...(str(flags.to) ? { to: str(flags.to)! } : {}),
      ...(str(flags.channel) ? { channel: str(flags.channel)! } : {}),
    };
  }
  if (str(flags.name)) result.name = str(flags.name)!;
  return result;
}

function describeSchedule(job: CronJob): string {
  const schedule = job.schedule as { kind: string; expr?: string; tz?: string; everyMs?: number; at?: string };
  if (schedule.kind === "cron") return `cron ${schedule.expr}${schedule.tz ? ` (${schedule.tz})` : ""}`;
  if (schedule.kind === "every") return `every ${duration(schedule.everyMs!)}`;
  return `at ${schedule.at}`;
}

const when = (ms: number | undefined) =>
  ms === undefined ? "—" : new Date(ms).toISOString().slice(0, 16).replace("T", " ");

export const cronCommand: Command = {
  name: "cron",
  summary: "scheduled jobs: list, add, edit, remove, run now, and their runs",
  usage: USAGE,
  options: {
    name: { value: true, description: "add/edit: the job's name" },
    cron: { value: true, description: 'a cron expression, e.g. "0 9 * * 1-5"' },
    tz: { value: true, description: "the time zone of --cron (IANA, e.g. Europe/Berlin)" },
    every: { value: true, description: "an interval: 30s, 15m, 2h, 1d" },
    at: { value: true, description: "once, at this time (local unless it has a zone)" },
    message: { value: true, description: "an agent turn in the job's own session" },
    system: { value: true, description: "a system event into the main session" },
    wake: { value: true, description: "now (default) or next-heartbeat" },
    deliver: { value: true, description: "none, announce or webhook" },
    channel: { value: true, description: "announce: the channel" },
    to: { value: true, description: "announce: the peer; webhook: the URL" },
    keep: { value: false, description: "an --at job stays (disabled) after it ran" },
    disabled: { value: false, description: "add it disabled" },
    enable: { value: false, description: "edit: enable" },
    disable: { value: false, description: "edit: disable" },
    all: { value: false, description: "list: include disabled jobs" },
    due: { value: false, description: "run: only when due" },
    limit: { value: true, description: "runs: how many" },
  },
  async run(context) {
    const { args, flags, global, io } = context;
    const [action = "list", id] = args;
    const actions = ["list", "add", "edit", "rm", "run", "runs"];
    if (!actions.includes(action))
      throw new CliError(`unknown action "${action}"${didYouMean(action, actions)}\n${USAGE}`, ExitCode.usage);
    if (["edit", "rm", "run"].includes(action) && !id)
      throw new CliError(`cron ${action} needs a job id: ${USAGE}`, ExitCode.usage);
    const parsed = action === "add" || action === "edit" ? fromFlags(flags) : {};
    const maybeClient = await connectIfRunning(context);
    if (!maybeClient && action !== "list")
      throw new CliError(
        `the gateway is not running: start it (gateway run) to ${action === "runs" ? "read runs" : `${action} a job`}`,
        ExitCode.unreachable,
      );
    if (!maybeClient) sayOffline(io, context.paths.stateDir);
    const client = maybeClient!;
    try {
      switch (action) {
        case "list": {
          const result = maybeClient
            ? await client.request("cron.list", { includeDisabled: flags.all === true })
            : { jobs: localCronJobs(context.paths.stateDir, flags.all === true) };
          if (global.json) printJson(io, result);
          else if (result.jobs.length === 0)
            io.stdout('no cron jobs — add one: gateway cron add --name digest --every 1h --message "anything new?"\n');
          else {
            const rows = result.jobs.map((job) => [
              job.id.slice(0, 8),
              job.name,
              describeSchedule(job),
              job.enabled ? when(job.state.nextRunAtMs) : "disabled",
              job.state.lastStatus
                ? `${job.state.lastStatus}${job.state.lastError ? `: ${job.state.lastError.slice(0, 60)}` : ""}`
                : "—",
            ]);
            io.stdout(`${table([["ID", "NAME", "SCHEDULE", "NEXT (UTC)", "LAST"], ...rows])}\n`);
          }
          return ExitCode.ok;
        }
        case "add": {
          if (!parsed.name) throw new CliError(`--name is required: ${USAGE}`, ExitCode.usage);
          if (!parsed.schedule) throw new CliError("when? give --cron, --every or --at", ExitCode.usage);
          if (!parsed.payload)
            throw new CliError("what? give --message (an agent turn) or --system (a system event)", ExitCode.usage);
          const job = await client.request("cron.add", {
            ...(parsed as CronAddParams),
            wakeMode: parsed.wakeMode ?? "now",
            ...(flags.keep ? { deleteAfterRun: false } : {}),
            ...(flags.disabled ? { enabled: false } : {}),
          });
          if (global.json) printJson(io, job);
          else
            io.stdout(
              `✔ added ${job.name} (${job.id}) — ${describeSchedule(job)}, next ${when(job.state.nextRunAtMs)} UTC\n`,
            );
          return ExitCode.ok;
        }
        case "edit": {
          const patch: CronJobPatch = { ...(parsed as CronJobPatch) };
          if (flags.enable) patch.enabled = true;
          if (flags.disable) patch.enabled = false;
          if (Object.keys(patch).length === 0) throw new CliError(`nothing to change: ${USAGE}`, ExitCode.usage);
          const job = await client.request("cron.update", { id: await resolveId(client, id!), patch });
          if (global.json) printJson(io, job);
          else
            io.stdout(
              `✔ updated ${job.name} — ${describeSchedule(job)}, ${job.enabled ? `next ${when(job.state.nextRunAtMs)} UTC` : "disabled"}\n`,
            );
          return ExitCode.ok;
        }
        case "rm": {
          const result = await client.request("cron.remove", { id: await resolveId(client, id!) });
          if (global.json) printJson(io, result);
          else io.stdout(result.removed ? `✔ removed ${id}\n` : `no job ${id}\n`);
          return result.removed ? ExitCode.ok : ExitCode.failed;
        }
        case "run": {
          const result = await client.request("cron.run", {
            id: await resolveId(client, id!),
            mode: flags.due ? "due" : "force",
          });
          if (global.json) printJson(io, result);
          else
            io.stdout(
              result.ran
                ? `✔ started (run ${result.runId}); gateway cron runs ${id} shows how it went\n`
                : `not run: ${result.reason}\n`,
            );
          return ExitCode.ok;
        }
        case "runs": {
          const result = await client.request("cron.runs", {
            ...(id ? { id: await resolveId(client, id) } : { scope: "all" as const }),
            limit: str(flags.limit) ? Number(flags.limit) : 20,
          });
          if (global.json) printJson(io, result);
          else if (result.entries.length === 0) io.stdout("no runs yet\n");
          else {
            const rows = result.entries.map((entry) => [
              when(entry.runAtMs ?? entry.ts),
              entry.jobName ?? entry.jobId.slice(0, 8),
              entry.status ?? "",
              entry.durationMs !== undefined ? duration(entry.durationMs) : "",
              (entry.error ?? entry.summary ?? "").replace(/\s+/g, " ").slice(0, 80),
            ]);
            io.stdout(`${table([["WHEN (UTC)", "JOB", "STATUS", "TOOK", "RESULT"], ...rows])}\n`);
          }
          return ExitCode.ok;
        }
        default:
          throw new CliError(`unknown action "${action}": ${USAGE}`, ExitCode.usage);
      }
    } finally {
      maybeClient?.close();
    }
  },
};

/** A job id, or the unique prefix of one (as `cron list` shows them). */
async function resolveId(client: Awaited<ReturnType<CommandContext["connect"]>>, idOrPrefix: string): Promise<string> {
  const { jobs } = await client.request("cron.list", { includeDisabled: true, limit: 200 });
  if (jobs.some((job) => job.id === idOrPrefix)) return idOrPrefix;
  const matches = jobs.filter((job) => job.id.startsWith(idOrPrefix));
  if (matches.length === 1) return matches[0]!.id;
  throw new CliError(
    matches.length === 0
      ? `no cron job "${idOrPrefix}" (gateway cron list --all shows them)`
      : `"${idOrPrefix}" matches ${matches.length} jobs: give more of the id`,
    ExitCode.usage,
  );
}
