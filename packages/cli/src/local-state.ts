// What `logs`, `cron list` and `sessions list/show` read when no gateway runs: the files in the state dir, read
// only (nothing is created or repaired), so a stopped gateway's log, jobs and transcripts are still one command away.
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { type ChatHistoryResult, type CronJob, type SessionsListResult, toChatMessage } from "@gateway/protocol";
import type { CliIo } from "./context.js";

/** Say once, on stderr, that the output comes from the files (the gateway is not running). */
export function sayOffline(io: CliIo, stateDir: string): void {
  io.stderr(`(the gateway is not running: this is a read of the files in ${stateDir})\n`);
}

function readJson(file: string): unknown {
  try {
    return JSON.parse(readFileSync(file, "utf8"));
  } catch {
    return undefined;
  }
}

/** JSON lines, skipping a torn or foreign line. */
function jsonLines<T>(text: string): T[] {
  const result: T[] = [];
  for (const line of text.split("\n")) {
    if (!line.trim()) continue;
    try {
      result.push(JSON.parse(line) as T);
    } catch {
      // a torn last line, or a hand edit: skipped, like the gateway does
    }
  }
  return result;
}

/** The log file the gateway writes (logging.file, else `<state dir>/logs/gateway.log`). */
export function logFile(stateDir: string, config: Record<string, unknown>): string {
  const logging = (config.logging ?? {}) as { file?: unknown };
  return typeof logging.file === "string" ? logging.file : join(stateDir, "logs", "gateway.log");
}

/** The last `limit` lines of a file and the byte offset after them (for following it). */
export function tailLines(file: string, limit: number): { lines: string[]; cursor: number } {
  if (!existsSync(file)) return { lines: [], cursor: 0 };
  const text = readFileSync(file, "utf8");
  const complete = text.endsWith("\n") ? text : text.slice(0, text.lastIndexOf("\n") + 1);
  const lines = complete.split("\n").filter(Boolean);
  return { lines: lines.slice(-limit), cursor: Buffer.byteLength(complete) };
}

/** Lines appended to a file since `cursor` (from the start again when the file shrank). */
export function linesSince(file: string, cursor: number): { lines: string[]; cursor: number } {
  if (!existsSync(file)) return { lines: [], cursor: 0 };
  const size = statSync(file).size;
  if (size < cursor) return linesSince(file, 0);
  const buffer = readFileSync(file).subarray(cursor);
  const text = buffer.toString("utf8");
  const end = text.lastIndexOf("\n") + 1;
  return {
    lines: text.slice(0, end).split("\n").filter(Boolean),
    cursor: cursor + Buffer.byteLength(text.slice(0, end)),
  };
}

interface SessionIndex {
  sessions?: Record<string, SessionsListResult["sessions"][number] & { sessionId: string }>;
}

function agentIds(stateDir: string): string[] {
  const agents = join(stateDir, "agents");
  return existsSync(agents) ? readdirSync(agents) : [];
}

/** Every agent's sessions, newest first, as `sessions.list` would answer. */
export function localSessions(stateDir: string): SessionsListResult {
  const sessions = agentIds(stateDir).flatMap((agentId) => {
    const index = readJson(join(stateDir, "agents", agentId, "sessions", "sessions.json")) as SessionIndex | undefined;
    return Object.values(index?.sessions ?? {});
  });
  sessions.sort((a, b) => b.updatedAt - a.updatedAt);
  return { ts: Date.now(), count: sessions.length, sessions } as SessionsListResult;
}

/** A session's last messages, as `chat.history` would answer (`agent:<agentId>:…` keys name their agent). */
export function localHistory(stateDir: string, sessionKey: string, limit: number): ChatHistoryResult {
  const agentId = sessionKey.startsWith("agent:") ? sessionKey.split(":")[1]! : "main";
  const directory = join(stateDir, "agents", agentId, "sessions");
  const index = readJson(join(directory, "sessions.json")) as SessionIndex | undefined;
  const entry = index?.sessions?.[sessionKey];
  const file = entry ? join(directory, `${entry.sessionId}.jsonl`) : undefined;
  // Lines from before content blocks are read in the current shape, as the gateway does.
  const messages =
    file && existsSync(file)
      ? jsonLines<Record<string, unknown>>(readFileSync(file, "utf8")).map(({ eventIds: _eventIds, ...line }) =>
          toChatMessage(line),
        )
      : [];
  return {
    sessionKey,
    ...(entry ? { sessionId: entry.sessionId } : {}),
    messages: messages.slice(-limit),
  } as ChatHistoryResult;
}

/** The cron jobs on disk (`cron/jobs.json`). */
export function localCronJobs(stateDir: string, includeDisabled: boolean): CronJob[] {
  const file = readJson(join(stateDir, "cron", "jobs.json")) as { jobs?: CronJob[] } | undefined;
  const jobs = Array.isArray(file?.jobs) ? file.jobs : [];
  return jobs.filter((job) => includeDisabled || job.enabled).map((job) => ({ ...job, state: job.state ?? {} }));
}
