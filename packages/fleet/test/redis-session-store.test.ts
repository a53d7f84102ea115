import { textContent } from "@gateway/protocol";
import { until } from "@gateway/vitest-preset/wait";
import { Redis } from "ioredis";
import { describe, expect, it } from "vitest";
import { RedisSessionStore, StaleSessionWriteError } from "../src/index.js";
import { fleetTestRedis } from "./support/redis.js";

const shared = fleetTestRedis("sessions");
const { cleanups, available, unique } = shared;
const KEY = "agent:main:main";

/** A store on its own connection, as another instance has it. */
function store(keyPrefix: string, fences: Map<string, number> = new Map()): RedisSessionStore {
  const connection = new Redis(shared.url);
  const instance = new RedisSessionStore(connection, {
    keyPrefix,
    agentId: "main",
    fence: (key) => fences.get(key),
  });
  cleanups.push(() => {
    instance.close();
    connection.disconnect();
  });
  return instance;
}
const user = (text: string) => ({ role: "user" as const, content: textContent(text) });

describe("RedisSessionStore", () => {
  it("what one instance writes, another lists and reads: index, transcript, patch, usage, reset, compact, delete", async () => {
    if (!available()) return;
    const keyPrefix = unique();
    const a = store(keyPrefix);
    const b = store(keyPrefix);
    await Promise.all([a.ready, b.ready]);
    await a.ensure(KEY, { channel: "telegram", peer: "42" });
    for (const text of ["one", "two", "three"]) await a.append(KEY, user(text));
    await until(() => b.get(KEY)?.origin?.peer === "42", { message: "b to see the session" });
    expect((await b.history(KEY)).map((message) => [message.seq, message.content])).toEqual([
      [1, textContent("one")],
      [2, textContent("two")],
      [3, textContent("three")],
    ]);
    expect(await b.messageCount(KEY)).toBe(3);
    expect(await b.transcriptBytes(KEY)).toBeGreaterThan(30);
    await b.patch(KEY, { label: "Grace", model: "gpt" });
    await b.addUsage(KEY, 10, 5);
    await until(() => a.get(KEY)?.label === "Grace" && a.get(KEY)?.inputTokens === 10, {
      message: "a to see the patch",
    });
    await a.patch(KEY, { model: null });
    await until(() => b.get(KEY)?.model === undefined, { message: "b to see the cleared model" });
    expect(b.get(KEY)).toMatchObject({ label: "Grace", outputTokens: 5, origin: { channel: "telegram", peer: "42" } });
    // A fresh instance loads the whole index at start.
    const c = store(keyPrefix);
    await c.ready;
    expect(c.list().map((entry) => entry.key)).toEqual([KEY]);
    expect(await c.compact(KEY, 2)).toMatchObject({
      kept: 2,
      removed: 1,
      archived: expect.stringContaining(":compacted-"),
    });
    expect((await a.history(KEY)).map((message) => message.seq)).toEqual([1, 2]);
    const before = a.get(KEY)!.sessionId;
    const reset = await b.reset(KEY);
    expect(reset).toMatchObject({ key: KEY, label: "Grace", inputTokens: 0 });
    await until(() => a.get(KEY)?.sessionId === reset.sessionId, { message: "a to see the reset" });
    expect(reset.sessionId).not.toBe(before);
    expect(await a.history(KEY)).toEqual([]);
    await a.append(KEY, user("after the reset"));
    expect((await b.history(KEY)).map((message) => message.seq)).toEqual([1]);
    const deleted = await b.delete(KEY);
    expect(deleted).toMatchObject({ deleted: true, archived: [expect.stringContaining(":deleted-")] });
    await until(() => a.get(KEY) === undefined && c.get(KEY) === undefined, { message: "everyone to see the delete" });
    expect(await a.delete(KEY)).toEqual({ deleted: false, archived: [] });
  });

  it("an append with a fencing token older than one the session has seen is refused whole; concurrent appends never tear", async () => {
    if (!available()) return;
    const keyPrefix = unique();
    const oldFences = new Map([[KEY, 7]]);
    const newFences = new Map([[KEY, 8]]);
    const old = store(keyPrefix, oldFences);
    const fresh = store(keyPrefix, newFences);
    await old.append(KEY, user("from the old owner"));
    await fresh.append(KEY, user("from the new owner"));
    const late = await old.append(KEY, user("late")).catch((error: unknown) => error);
    expect(late).toBeInstanceOf(StaleSessionWriteError);
    expect((late as Error).message).toMatch(/fencing token 8 > 7/);
    // Without a token (an inject from an instance that never ran the session) a whole message is still added.
    const bystander = store(keyPrefix);
    await Promise.all(Array.from({ length: 30 }, (_, index) => bystander.append(KEY, user(`inject ${index}`))));
    const history = await fresh.history(KEY);
    expect(history.map((message) => message.content[0])).toEqual([
      { type: "text", text: "from the old owner" },
      { type: "text", text: "from the new owner" },
      ...Array.from({ length: 30 }, (_, index) => ({ type: "text", text: `inject ${index}` })),
    ]);
    expect(history.map((message) => message.seq)).toEqual(Array.from({ length: 32 }, (_, index) => index + 1));
    // Garbage in the index is dropped at the boundary, not served.
    await shared.redis.hset(`${keyPrefix}sessions:{main}:index`, "bad", '{"key":"bad"}');
    const reader = store(keyPrefix);
    await reader.ready;
    expect(reader.get("bad")).toBeUndefined();
  });
});
