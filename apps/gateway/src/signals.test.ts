import { describe, expect, it } from "vitest";
import { installShutdownSignals } from "./signals.js";

describe("signals", () => {
  it("the first signal closes the gateway and exits 0 once closed; a second one exits 130 at once", async () => {
    const exits: number[] = [];
    let finishClose: () => void = () => {};
    const reasons: string[] = [];
    const silent = { info() {}, warn() {}, error() {} };
    const uninstall = installShutdownSignals(
      {
        server: { logger: silent },
        close: (options) => {
          reasons.push(options?.reason ?? "");
          return new Promise<void>((resolve) => (finishClose = resolve));
        },
      },
      { exit: (code) => exits.push(code), signals: ["SIGUSR2"] },
    );
    try {
      process.emit("SIGUSR2", "SIGUSR2");
      expect(reasons).toEqual(["received SIGUSR2"]);
      process.emit("SIGUSR2", "SIGUSR2");
      expect(exits).toEqual([130]);
      finishClose();
      await new Promise((resolve) => setImmediate(resolve));
      expect(exits).toEqual([130, 0]);
    } finally {
      uninstall();
    }
  });
});
