import { settle, until } from "@gateway/vitest-preset/wait";
import { describe, expect, it } from "vitest";
import {
  backoffDelay,
  ChannelError,
  ChannelNetworkError,
  ChannelPlatformError,
  ChannelPluginError,
  chunkText,
  isFatal,
  Pacer,
  ReconnectSupervisor,
  retry,
  retryAfterOf,
  wrapError,
} from "../src/index.js";

describe("chunkText", () => {
  it("leaves short text alone and splits long text at paragraphs, lines, then spaces", () => {
    expect(chunkText("short", 100)).toEqual(["short"]);
    const paragraphs = `${"a".repeat(60)}\n\n${"b".repeat(60)}\n\n${"c".repeat(60)}`;
    expect(chunkText(paragraphs, 130)).toEqual([`${"a".repeat(60)}\n\n${"b".repeat(60)}`, "c".repeat(60)]);
    const words = Array.from({ length: 100 }, (_, index) => `word${index}`).join(" ");
    const chunks = chunkText(words, 50);
    for (const chunk of chunks) expect(chunk.length).toBeLessThanOrEqual(50);
    expect(chunks.join(" ")).toBe(words);
  });

  it("never splits inside a code block; a block over the limit is re-fenced with its language", () => {
    const code = ["```ts", ...Array.from({ length: 30 }, (_, index) => `const value${index} = ${index};`), "```"].join(
      "\n",
    );
    const text = `Here is the code:\n\n${code}\n\nThat is all.`;
    const chunks = chunkText(text, 200);
    for (const chunk of chunks) {
      expect(chunk.length).toBeLessThanOrEqual(200);
      const fences = chunk.split("\n").filter((line) => line.startsWith("```")).length;
      expect(fences % 2).toBe(0); // every chunk's code is closed
    }
    const inBlocks = chunks.filter((chunk) => chunk.includes("const value"));
    for (const chunk of inBlocks) expect(chunk).toMatch(/^(Here is the code:\n\n)?```ts\n[\s\S]*\n```$/);
    expect(chunks.join("\n").match(/const value\d+ = \d+;/g)).toHaveLength(30);
  });

  it("never splits a surrogate pair", () => {
    const text = "😀".repeat(40); // 80 UTF-16 units, no spaces
    const chunks = chunkText(text, 25);
    for (const chunk of chunks) {
      expect(chunk.length).toBeLessThanOrEqual(25);
      expect(chunk).not.toMatch(/^[\udc00-\udfff]|[\ud800-\udbff]$/);
    }
    expect(chunks.join("")).toBe(text);
  });
});

describe("pacing", () => {
  it("keeps a per-chat interval (in order) and a global rate", async () => {
    const pacer = new Pacer({ perChatIntervalMs: 150, globalPerSecond: 3 });
    const started = Date.now();
    const times: Record<string, number> = {};
    await Promise.all(
      ["a0", "a1", "a2", "b", "c", "d"].map((name) =>
        pacer.wait(name.startsWith("a") ? "a" : name).then(() => {
          times[name] = Date.now() - started;
        }),
      ),
    );
    expect(times.a0).toBeLessThan(50);
    expect(times.a1).toBeGreaterThanOrEqual(140);
    expect(times.a2! - times.a1!).toBeGreaterThanOrEqual(140);
    // 3 per second overall: of the six, at most three go in the first second
    expect(Object.values(times).filter((time) => time < 990).length).toBeLessThanOrEqual(3);
  });
});

describe("retry, backoff, errors", () => {
  it("retries retryable errors, honours retry-after, stops at a fatal one", async () => {
    let calls = 0;
    const started = Date.now();
    const value = await retry(
      async () => {
        calls++;
        if (calls === 1)
          throw new ChannelPlatformError("sendMessage", "429 too many", { status: 429, retryAfterMs: 30 });
        if (calls === 2) throw new Error("socket hang up");
        return "sent";
      },
      { baseMs: 5 },
    );
    expect(value).toBe("sent");
    expect(calls).toBe(3);
    expect(Date.now() - started).toBeGreaterThanOrEqual(30);
    calls = 0;
    await expect(
      retry(async () => {
        calls++;
        throw new ChannelPlatformError("getMe", "401 unauthorized", { status: 401, fatal: true });
      }),
    ).rejects.toMatchObject({ fatal: true, message: "getMe: 401 unauthorized" });
    expect(calls).toBe(1);
    expect(backoffDelay(1, { baseMs: 100, jitter: 0 })).toBe(100);
    expect(backoffDelay(10, { baseMs: 100, maxMs: 1000, jitter: 0 })).toBe(1000);
    const wrapped = await wrapError("sendPhoto", async () => {
      throw new Error("boom");
    }).catch((error: unknown) => error);
    expect(wrapped).toMatchObject({ name: "ChannelPluginError", operation: "sendPhoto", message: "sendPhoto: boom" });
    expect(ChannelPluginError.isInstance(wrapped)).toBe(true);
    expect(isFatal(wrapped)).toBe(false);
    // What failed, as a stable code: the platform, the network, or the plugin.
    expect(new ChannelNetworkError("getUpdates", "ECONNRESET")).toMatchObject({
      code: "CHANNEL_NETWORK",
      fatal: false,
    });
    expect(new ChannelPlatformError("getMe", "401", { status: 401, fatal: true })).toMatchObject({
      code: "CHANNEL_PLATFORM",
      status: 401,
    });
    // A ChannelError from another copy of the SDK (a plugin's own node_modules) is recognised by its marker.
    const secondCopy = "../src/errors.js?second-copy";
    const otherCopy = (await import(/* @vite-ignore */ secondCopy)) as typeof import("../src/errors.js");
    const foreign = new otherCopy.ChannelPlatformError("getMe", "401", { fatal: true, retryAfterMs: 1500 });
    expect(foreign instanceof ChannelError).toBe(false);
    expect(ChannelError.isInstance(foreign)).toBe(true);
    expect(ChannelPlatformError.isInstance(foreign)).toBe(true);
    expect(ChannelNetworkError.isInstance(foreign)).toBe(false);
    expect(isFatal(foreign)).toBe(true);
    expect(retryAfterOf(foreign)).toBe(1500);
    // Look-alikes are not: the shape alone (name, fatal) is not a channel error.
    expect(isFatal(Object.assign(new Error("x"), { name: "ChannelError", fatal: true }))).toBe(false);
    expect(isFatal(Object.assign(new Error("x"), { fatal: true }))).toBe(false);
  });

  it("the reconnect supervisor retries until stopped, and stops on a fatal error", async () => {
    const attempts: number[] = [];
    let fail = true;
    let up = false;
    const supervisor = new ReconnectSupervisor(
      async (signal) => {
        if (fail) throw new Error("down");
        up = true;
        await new Promise<void>((resolve) => signal.addEventListener("abort", () => resolve(), { once: true }));
      },
      { baseMs: 5, onAttempt: (attempt) => attempts.push(attempt) },
    );
    supervisor.start();
    await until(() => attempts.length > 2, { message: "the supervisor retrying" });
    fail = false;
    await until(() => up, { message: "the connection up again" });
    const started = Date.now();
    await supervisor.stop();
    expect(Date.now() - started).toBeLessThan(100);
    let fatal: Error | undefined;
    let fatalCalls = 0;
    const stopsAtFatal = new ReconnectSupervisor(
      async () => {
        fatalCalls++;
        throw new ChannelPlatformError("getUpdates", "409 conflict", { status: 409, fatal: true });
      },
      { baseMs: 5, onFatal: (error) => (fatal = error) },
    );
    stopsAtFatal.start();
    await until(() => fatal !== undefined, { message: "onFatal" });
    expect(fatal?.message).toBe("getUpdates: 409 conflict");
    await settle(50); // negative window: ten backoffs of 5 ms, in which a retry would have come
    expect(fatalCalls).toBe(1);
    await stopsAtFatal.stop();
  });

  it("a connection that reports itself up starts the next outage's backoff from the first step", async () => {
    const attempts: number[] = [];
    let calls = 0;
    const supervisor = new ReconnectSupervisor(
      async (_signal, connected) => {
        calls++;
        if (calls === 3) connected(); // up for a while, then lost again
        throw new Error("lost");
      },
      { baseMs: 5, onAttempt: (attempt) => attempts.push(attempt) },
    );
    supervisor.start();
    await until(() => attempts.length >= 4, { message: "four attempts" });
    await supervisor.stop();
    expect(attempts.slice(0, 4)).toEqual([1, 2, 1, 2]);
  });

  it("paces groups slower than direct chats when the interval is a function of the chat", async () => {
    const pacer = new Pacer({ perChatIntervalMs: (chat) => (chat.startsWith("-") ? 200 : 20) });
    const started = Date.now();
    await pacer.wait("-100");
    await pacer.wait("-100");
    const group = Date.now() - started;
    await pacer.wait("42");
    await pacer.wait("42");
    expect(group).toBeGreaterThanOrEqual(190);
    expect(Date.now() - started - group).toBeLessThan(150);
  });
});
