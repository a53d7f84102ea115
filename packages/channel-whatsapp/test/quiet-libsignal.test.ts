import { afterEach, describe, expect, it, vi } from "vitest";
import { quietLibsignal } from "../src/quiet-libsignal.js";

afterEach(() => vi.restoreAllMocks());

describe("libsignal's console lines", () => {
  it("are dropped (session objects with private keys never printed) while held, and the console is restored after", () => {
    const printed: unknown[][] = [];
    const original = console.info;
    console.info = (...values: unknown[]) => void printed.push(values);
    try {
      const debug: string[] = [];
      const releaseFirst = quietLibsignal((line) => debug.push(line));
      const releaseSecond = quietLibsignal((line) => debug.push(line));
      console.info("Closing session:", { privKey: Buffer.from("secret") });
      console.info("an ordinary line", 1);
      releaseFirst();
      console.info("Opening session:", { privKey: Buffer.from("secret") });
      releaseSecond();
      releaseSecond();
      console.info("Closing session:", "after release");
      expect(printed).toEqual([
        ["an ordinary line", 1],
        ["Closing session:", "after release"],
      ]);
      expect(debug).toEqual(["libsignal: Closing session", "libsignal: Opening session"]);
    } finally {
      console.info = original;
    }
  });
});
