// After a method's params validate, what the schema does not name is removed before the handler sees it: the
// reference's "unknown fields are ignored", without mass assignment. Each case below was possible before.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { startGateway, stopAll } from "./harness.js";

afterEach(stopAll);

describe("unknown params never reach a handler", () => {
  it("sessions.patch cannot set a session's transcript path (sessionId) or redirect its deliveries (origin)", async () => {
    const { client, stateDir } = await startGateway();
    const operator = await client();
    const key = "agent:main:main";
    await operator.request("chat.send", { sessionKey: key, message: "hello" });
    const before = (await operator.request("sessions.list", {})).sessions.find((session) => session.key === key)!;
    const patched = await operator.call("sessions.patch", {
      key,
      label: "renamed",
      sessionId: "../../../../tmp/owned",
      origin: { channel: "telegram", accountId: "default", peer: "attacker-chat" },
    });
    expect(patched).toMatchObject({ ok: true, entry: { label: "renamed" } });
    const index = JSON.parse(readFileSync(join(stateDir, "agents", "main", "sessions", "sessions.json"), "utf8"));
    const entry = index.sessions[key];
    expect(entry.label).toBe("renamed");
    expect(entry.sessionId).toBe(before.sessionId);
    expect(entry.sessionId).not.toContain("/");
    expect(entry.origin?.peer).not.toBe("attacker-chat");
  });

  it("cron.update cannot overwrite a job's id or its state", async () => {
    const { client } = await startGateway();
    const operator = await client();
    const added = await operator.request("cron.add", {
      name: "nightly",
      schedule: { kind: "every", everyMs: 3_600_000 },
      sessionTarget: "isolated",
      wakeMode: "now",
      payload: { kind: "agentTurn", message: "summarise" },
    });
    const updated = await operator.call("cron.update", {
      id: added.id,
      patch: {
        name: "renamed",
        id: "someone-elses-job",
        state: { runningAtMs: 1, consecutiveErrors: 99 },
        createdAtMs: 0,
      },
    });
    expect(updated).toMatchObject({ id: added.id, name: "renamed" });
    const { jobs } = await operator.request("cron.list", {});
    expect(jobs.map((job) => job.id)).toEqual([added.id]);
    expect(jobs[0]!.state).not.toMatchObject({ runningAtMs: 1 });
    expect(jobs[0]!.state.consecutiveErrors ?? 0).toBe(0);
    expect(jobs[0]!.createdAtMs).toBe(added.createdAtMs);
  });
});
