import { describe, expect, it } from "vitest";
import { type Closable, installShutdownSignals } from "./signals.js";

const silent = { info() {}, warn() {}, error() {} };

function fakeGateway(overrides: Partial<Closable> = {}) {
  const reasons: string[] = [];
  let reloads = 0;
  let finishClose: () => void = () => {};
  const gateway: Closable = {
    server: { logger: silent },
    config: {
      reload: async () => {
        reloads++;
      },
    },
    close: (options) => {
      reasons.push(options?.reason ?? "");
      return new Promise<void>((resolve) => (finishClose = resolve));
    },
    ...overrides,
  };
  return { gateway, reasons, reloads: () => reloads, finishClose: () => finishClose() };
}

/** Signals installed on a fake gateway (SIGUSR2 stops, SIGWINCH reloads), with the exit codes they asked for. */
function installed(options: { forceExitAfterMs?: number } = {}) {
  const exits: number[] = [];
  const fake = fakeGateway();
  const uninstall = installShutdownSignals(fake.gateway, {
    exit: (code) => exits.push(code),
    shutdownSignals: ["SIGUSR2"],
    reloadSignal: "SIGWINCH",
    errorHandlers: false,
    ...options,
  });
  return { exits, fake, uninstall };
}

describe("signals", () => {
  it("the first signal closes the gateway and exits 0 once closed; a second one exits 130 at once", async () => {
    const { exits, fake, uninstall } = installed();
    try {
      process.emit("SIGUSR2", "SIGUSR2");
      expect(fake.reasons).toEqual(["received SIGUSR2"]);
      process.emit("SIGUSR2", "SIGUSR2");
      expect(exits).toEqual([130]);
      fake.finishClose();
      await new Promise((resolve) => setImmediate(resolve));
      expect(exits).toEqual([130, 0]);
    } finally {
      uninstall();
    }
  });

  it("a shutdown that never finishes exits 1 at its deadline", async () => {
    const { exits, uninstall } = installed({ forceExitAfterMs: 20 });
    try {
      process.emit("SIGUSR2", "SIGUSR2");
      await new Promise((resolve) => setTimeout(resolve, 60));
      expect(exits).toEqual([1]);
    } finally {
      uninstall();
    }
  });

  it("the reload signal re-reads the config and does not stop anything", async () => {
    const { exits, fake, uninstall } = installed();
    try {
      process.emit("SIGWINCH", "SIGWINCH");
      expect(fake.reloads()).toBe(1);
      expect(fake.reasons).toEqual([]);
      expect(exits).toEqual([]);
    } finally {
      uninstall();
    }
  });
});
