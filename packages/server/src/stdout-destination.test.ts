import { EventEmitter } from "node:events";
import { describe, expect, it } from "vitest";
import { StdoutDestination, type StdoutLike } from "./stdout-destination.js";

/** A stdout whose reader is stuck: everything written waits, until `drain()`. */
class StuckStdout extends EventEmitter implements StdoutLike {
  readonly written: string[] = [];
  #waiting = 0;
  write(chunk: string): boolean {
    this.written.push(chunk);
    this.#waiting += chunk.length;
    return false;
  }
  get writableLength(): number {
    return this.#waiting;
  }
  drain(): void {
    this.#waiting = 0;
    this.emit("drain");
  }
}

function stuckStdout() {
  const stream = new StuckStdout();
  return { stream, written: stream.written };
}

describe("StdoutDestination", () => {
  it("drops lines while stdout is backed up, then says how many once it drains", () => {
    const { stream, written } = stuckStdout();
    const destination = new StdoutDestination({
      stream,
      maxBufferedBytes: 100,
      droppedNotice: (n) => `dropped ${n}\n`,
    });
    for (let index = 0; index < 10; index++) destination.write(`${"x".repeat(40)}\n`);
    expect(written).toHaveLength(3);
    expect(destination.dropped).toBe(7);
    stream.drain();
    expect(written.at(-1)).toBe("dropped 7\n");
    destination.write("after\n");
    expect(written.at(-1)).toBe("after\n");
  });

  it("stops writing, quietly, once stdout fails (EPIPE: the reader went away)", () => {
    const { stream, written } = stuckStdout();
    const destination = new StdoutDestination({ stream });
    destination.write("one\n");
    stream.emit("error", Object.assign(new Error("write EPIPE"), { code: "EPIPE" }));
    destination.write("two\n");
    expect(written).toEqual(["one\n"]);
  });
});
