import { describe, expect, it } from "vitest";
import { agentTurnRunner, cronOptionsFromConfig, heartbeatOptionsFromConfig } from "./from-config.js";

describe("cron and heartbeat from the config", () => {
  it("the heartbeat stays off without a model, defaults to 30 minutes with one, and '0' turns it off", () => {
    const agent = { modelConfigured: true, runTimeoutMs: 60_000 };
    expect(heartbeatOptionsFromConfig({ every: "5m" }, { ...agent, modelConfigured: false }).everyMs).toBe(0);
    expect(heartbeatOptionsFromConfig({}, agent)).toMatchObject({ everyMs: 30 * 60_000, timeoutMs: 60_000 });
    expect(heartbeatOptionsFromConfig({ every: "0" }, agent).everyMs).toBe(0);
    expect(heartbeatOptionsFromConfig({ every: "90s", ackMaxChars: 0 }, agent)).toMatchObject({
      everyMs: 90_000,
      ackMaxChars: 0,
    });
    expect(cronOptionsFromConfig({ defaultTimeoutSeconds: 5, catchUp: "skip" })).toMatchObject({
      defaultTimeoutMs: 5_000,
      catchUp: "skip",
    });
  });

  it("an agent turn past its timeout is aborted and logged as aborted", async () => {
    const aborted: string[] = [];
    let finish: (outcome: { stopReason: string; text: string }) => void = () => {};
    const runner = agentTurnRunner({
      async send() {
        return { runId: "run-1", done: new Promise((resolve) => (finish = resolve)) };
      },
      abort(sessionKey, runId) {
        aborted.push(`${sessionKey}/${runId}`);
        finish({ stopReason: "aborted", text: "half an answ" });
      },
      sessionId: () => "session-9",
    });
    const outcome = await runner("summarise the day", { sessionKey: "cron:daily", timeoutMs: 20 });
    expect(aborted).toEqual(["cron:daily/run-1"]);
    expect(outcome).toEqual({ status: "aborted", text: "half an answ", runId: "run-1", sessionId: "session-9" });
  });
});
