import { mkdirSync, openSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname } from "node:path";
import pino, { type DestinationStream, type Logger } from "pino";
import { StdoutDestination } from "./stdout-destination.js";

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

/** A logger and the function that flushes and closes the files it opened. */
export interface OwnedLogger {
  readonly logger: Logger;
  close(): void;
}

/**
 * The gateway's structured logger: JSON lines to the log file (for `logs.tail`, mode 0600) and to stdout (pretty in
 * a TTY), with tokens, passwords and auth headers redacted.
 */
export function createLogger(options: LoggerOptions = {}): OwnedLogger {
  const level = options.level ?? "info";
  // Every stream takes every level: the logger's own level filters, so changing it (logging.level) takes effect live.
  const streamLevel = "trace";
  const streams: Array<{ level: string; stream: DestinationStream }> = [];
  const pretty = options.pretty ?? (!options.json && process.stdout.isTTY === true);
  if (options.stdout === false) {
    // file only (tests, and services whose stdout goes nowhere)
  } else if (pretty) {
    // Loaded only in a terminal: keeps start-up lean for services.
    const prettyFactory = createRequire(import.meta.url)("pino-pretty") as (options: object) => DestinationStream;
    const destination = new StdoutDestination({
      droppedNotice: (dropped) => `${dropped} log line(s) were not shown: the terminal was not keeping up\n`,
    });
    streams.push({
      level: streamLevel,
      stream: prettyFactory({ colorize: true, translateTime: "HH:MM:ss.l", ignore: "pid,hostname", destination }),
    });
  } else {
    // Never pino.destination(1): it flushes synchronously at exit, which hangs forever on a full pipe.
    streams.push({ level: streamLevel, stream: new StdoutDestination() });
  }
  let fileDescriptor: number | undefined;
  let fileStream: ReturnType<typeof pino.destination> | undefined;
  if (options.file) {
    mkdirSync(dirname(options.file), { recursive: true, mode: 0o700 });
    // Opened synchronously so a failure (permissions, missing dir) surfaces at start-up, not as a stray async error.
    fileDescriptor = openSync(options.file, "a", 0o600);
    // Bounded: while the disk is full, lines past 8 MiB of backlog are dropped instead of growing the heap; a write
    // error (ENOSPC) must never become an uncaught exception — the stream writes its backlog again on the next line.
    fileStream = pino.destination({ fd: fileDescriptor, sync: false, maxLength: 8 * 1024 * 1024 });
    fileStream.on("error", () => {});
    streams.push({ level: streamLevel, stream: fileStream });
  }
  const logger =
    streams.length === 0
      ? pino({ level: "silent" })
      : pino(
          { level, redact: { paths: REDACTED_PATHS, censor: "[redacted]" }, base: { pid: process.pid } },
          pino.multistream(streams),
        );
  let closed = false;
  return {
    logger,
    close() {
      if (closed) return;
      closed = true;
      // The stream owns the descriptor from here: flush what is buffered, then let it close the file.
      fileStream?.flushSync();
      fileStream?.end();
    },
  };
}
