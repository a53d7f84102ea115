// Two gateways on one Redis: a chat.send with the same idempotencyKey sent to both (at once, and one after the
// other) starts one run across the fleet; the duplicate gets the first call's run id, as a duplicate on one
// instance does.
import { afterEach, describe, expect, it } from "vitest";
import { fleetInstance, fleetPrefix, redisAvailable } from "./fleet-harness.js";
import { stopAll, type TestGateway } from "./harness.js";

afterEach(stopAll);

/** How many times `text` was sent as a user message in the main session of an instance. */
async function userMessages(instance: TestGateway, sessionKey: string, text: string): Promise<number> {
  const client = await instance.client();
  const history = (await client.request("chat.history", { sessionKey })) as {
    messages: Array<{ role: string; content: unknown }>;
  };
  return history.messages.filter((message) => message.role === "user" && JSON.stringify(message.content).includes(text))
    .length;
}

describe("idempotency keys across a fleet", () => {
  it("the same idempotencyKey on A and on B runs once; the second answer carries the first run's id", async (context) => {
    if (!redisAvailable()) return context.skip();
    const keyPrefix = fleetPrefix();
    const a = await fleetInstance("a", keyPrefix);
    const b = await fleetInstance("b", keyPrefix);
    const [clientA, clientB] = await Promise.all([a.client(), b.client()]);
    const sessionKey = "agent:main:fleet-idempotency";

    // At the same moment, on both instances.
    const both = await Promise.all([
      clientA.request("chat.send", { sessionKey, message: "together", idempotencyKey: "k-together" }),
      clientB.request("chat.send", { sessionKey, message: "together", idempotencyKey: "k-together" }),
    ]);
    expect(both[0].runId).toBe(both[1].runId);
    // One after the other: B answers with A's run.
    const first = await clientA.request("chat.send", { sessionKey, message: "in turn", idempotencyKey: "k-turn" });
    const second = await clientB.request("chat.send", { sessionKey, message: "in turn", idempotencyKey: "k-turn" });
    expect(second.runId).toBe(first.runId);
    // A different key is a different call.
    const other = await clientB.request("chat.send", { sessionKey, message: "another", idempotencyKey: "k-other" });
    expect(other.runId).not.toBe(first.runId);

    // The transcript is the fleet's: each instance reads the same one, each message in it once.
    for (const text of ["together", "in turn", "another"])
      for (const instance of [a, b]) expect(await userMessages(instance, sessionKey, text), text).toBe(1);
  });
});
