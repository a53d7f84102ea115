import { mkdirSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname } from "node:path";
import pino, { type DestinationStream, type Logger } from "pino";

/** Paths whose values never reach a log line. */
export const REDACTED_PATHS = [
  "token",
  "password",
  "auth.token",
  "auth.password",
  "auth.deviceToken",
  "params.auth",
  "params.token",
  "params.password",
  "*.token",
  "*.password",
  "*.apiKey",
  "req.headers.authorization",
  "req.headers.cookie",
  "headers.authorization",
];

/** Options of the gateway's logger. */
export interface LoggerOptions {
  /** @default "info" */
  level?: string;
  /** Log file (JSON lines) that `logs.tail` reads; `false` for none. */
  file?: string | false;
  /** Human-readable output on stdout. @default true when stdout is a TTY and `json` is not set */
  pretty?: boolean;
  /** Force JSON lines on stdout. */
  json?: boolean;
  /** Write to stdout at all. @default true */
  stdout?: boolean;
}

/**
 * The gateway's structured logger: JSON lines to the log file (for `logs.tail`) and to stdout (pretty in a TTY),
 * with tokens, passwords and auth headers redacted.
 */
export function createLogger(options: LoggerOptions = {}): Logger {
  const level = options.level ?? "info";
  const streams: Array<{ level: string; stream: DestinationStream }> = [];
  const pretty = options.pretty ?? (!options.json && process.stdout.isTTY === true);
  if (options.stdout === false) {
    // file only (tests, and services whose stdout goes nowhere)
  } else if (pretty) {
    // Loaded only in a terminal: keeps start-up lean for services.
    const prettyFactory = createRequire(import.meta.url)("pino-pretty") as (options: object) => DestinationStream;
    streams.push({
      level,
      stream: prettyFactory({ colorize: true, translateTime: "HH:MM:ss.l", ignore: "pid,hostname" }),
    });
  } else {
    streams.push({ level, stream: pino.destination({ fd: 1, sync: false }) });
  }
  if (options.file) {
    mkdirSync(dirname(options.file), { recursive: true, mode: 0o700 });
    streams.push({ level, stream: pino.destination({ dest: options.file, mkdir: true, sync: false }) });
  }
  if (streams.length === 0) return pino({ level: "silent" });
  return pino(
    { level, redact: { paths: REDACTED_PATHS, censor: "[redacted]" }, base: { pid: process.pid } },
    pino.multistream(streams),
  );
}
