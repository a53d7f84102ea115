// Live sessions as the reference's clients use them: a connection subscribed to one session's messages gets a
// `session.message` for every message appended to its transcript (in order, with its place in it), a list subscriber
// gets `sessions.changed`, and nobody else gets either; a subscription ends with its connection.
import { validateEventPayload } from "@gateway/protocol";
import { eventually, settle } from "@gateway/vitest-preset/wait";
import { afterEach, describe, expect, it } from "vitest";
import { startGateway, stopAll } from "./harness.js";

afterEach(stopAll);

const KEY = "agent:main:main";

describe("session subscriptions", () => {
  it("session.message for each appended message to its subscribers only; sessions.changed to list subscribers", async () => {
    const gateway = await startGateway();
    const watcher = await gateway.client();
    const lister = await gateway.client();
    const bystander = await gateway.client();
    const messages: any[] = [];
    const changes: any[] = [];
    const seenByBystander: string[] = [];
    watcher.on("session.message", (payload) => messages.push(payload));
    lister.on("sessions.changed", (payload) => changes.push(payload));
    bystander.on("*", (_payload, event) => seenByBystander.push(event));
    expect(await watcher.request("sessions.messages.subscribe", { key: KEY, includeApprovals: true })).toEqual({
      subscribed: true,
      key: KEY,
      approvalReplay: { approvals: [], complete: true },
    });
    const subscribed = await lister.request("sessions.subscribe", { limit: 10 });
    expect(subscribed.subscribed).toBe(true);

    await watcher.request("chat.send", { sessionKey: KEY, message: "hello live", idempotencyKey: "live-1" });
    await eventually(() => expect(messages.map((payload) => payload.message.role)).toEqual(["user", "assistant"]));
    for (const payload of messages) expect(validateEventPayload("session.message", payload).ok).toBe(true);
    expect(messages[0]).toMatchObject({
      sessionKey: KEY,
      agentId: "main",
      messageSeq: 1,
      message: {
        role: "user",
        content: [{ type: "text", text: "hello live" }],
        idempotencyKey: "live-1",
        __openclaw: { seq: 1 },
      },
    });
    expect(messages[1]).toMatchObject({ messageSeq: 2, message: { role: "assistant", __openclaw: { seq: 2 } } });
    expect(messages[1].message.__openclaw.id).toBe(messages[1].messageId);
    // chat.history numbers the same messages the same way.
    const history = await watcher.request("chat.history", { sessionKey: KEY });
    expect(history.messages.map((message) => message.__openclaw)).toEqual(
      messages.map((payload) => ({ id: payload.messageId, seq: payload.messageSeq })),
    );
    await eventually(() =>
      expect(changes.map((change) => change.phase)).toEqual(expect.arrayContaining(["start", "message", "end"])),
    );
    expect(changes.at(-1).session).toMatchObject({ key: KEY, kind: "direct" });
    expect(seenByBystander.filter((event) => event.startsWith("session"))).toEqual([]);

    // After unsubscribing (or disconnecting), nothing more comes.
    await watcher.request("sessions.messages.unsubscribe", { key: KEY });
    const before = messages.length;
    lister.close();
    await watcher.request("chat.send", { sessionKey: KEY, message: "after", idempotencyKey: "live-2" });
    await eventually(async () =>
      expect((await watcher.request("chat.history", { sessionKey: KEY })).messages).toHaveLength(4),
    );
    // The second run's messages would have arrived with its chat events, which already did: a short window suffices.
    await settle(200);
    expect(messages).toHaveLength(before);
  });
});
