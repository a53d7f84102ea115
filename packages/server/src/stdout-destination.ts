// Log lines to stdout without ever blocking the process. A pipe nobody reads (`gateway run | sleep`, a stuck log
// shipper) fills up; a blocking or synchronously flushed stdout would then freeze the event loop — and with it
// shutdown and the second signal that should force it. Here lines go through the stream's own asynchronous writes,
// are dropped (and counted) while more than `maxBufferedBytes` are waiting, and are never flushed synchronously at
// exit. The log file keeps every line either way. A closed pipe (`gateway run | head`) ends stdout logging quietly.
import { Writable } from "node:stream";

/** The subset of a writable stream this needs (process.stdout in the gateway). */
export interface StdoutLike {
  write(chunk: string): boolean;
  readonly writableLength: number;
  on(event: "error", listener: (error: Error) => void): unknown;
  on(event: "drain", listener: () => void): unknown;
}

/** Options of the stdout destination. */
export interface StdoutDestinationOptions {
  /** @default process.stdout */
  stream?: StdoutLike;
  /** Bytes waiting to be written past which new lines are dropped. @default 4194304 */
  maxBufferedBytes?: number;
  /** The line that reports dropped lines once the stream drains. @default a JSON log line */
  droppedNotice?: (dropped: number) => string;
}

/** A log destination (a Writable, for pino and pino-pretty) that never blocks on stdout. */
export class StdoutDestination extends Writable {
  readonly #stream: StdoutLike;
  readonly #maxBufferedBytes: number;
  readonly #droppedNotice: (dropped: number) => string;
  #dropped = 0;
  #closed = false;

  constructor(options: StdoutDestinationOptions = {}) {
    super({ decodeStrings: false });
    this.#stream = options.stream ?? process.stdout;
    this.#maxBufferedBytes = options.maxBufferedBytes ?? 4 * 1024 * 1024;
    this.#droppedNotice =
      options.droppedNotice ??
      ((dropped) =>
        `${JSON.stringify({ level: 40, time: Date.now(), pid: process.pid, msg: `${dropped} log line(s) were not written to stdout: it was not being read (the log file has them)` })}\n`);
    // EPIPE (the reader went away), EAGAIN storms, a full disk under a redirect: stdout is done, the gateway is not.
    this.#stream.on("error", () => {
      this.#closed = true;
    });
    this.#stream.on("drain", () => {
      if (this.#dropped === 0 || this.#closed) return;
      const dropped = this.#dropped;
      this.#dropped = 0;
      this.#stream.write(this.#droppedNotice(dropped));
    });
  }

  /** Lines dropped since the last notice. */
  get dropped(): number {
    return this.#dropped;
  }

  override _write(chunk: string | Buffer, _encoding: BufferEncoding, done: (error?: Error | null) => void): void {
    done();
    if (this.#closed) return;
    if (this.#stream.writableLength > this.#maxBufferedBytes) {
      this.#dropped++;
      return;
    }
    try {
      this.#stream.write(typeof chunk === "string" ? chunk : chunk.toString("utf8"));
    } catch {
      // A synchronous stdout (a file) that failed: stop writing there.
      this.#closed = true;
    }
  }
}
