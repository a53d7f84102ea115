// The extension loaded into an embedded pi session (offline, against the fake model) with real Redis: an event pushed
// for this satellite arrives as a user message the model answers; the session registers and unregisters itself.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  AuthStorage,
  createAgentSession,
  DefaultResourceLoader,
  ModelRegistry,
  SessionManager,
  SettingsManager,
} from "@earendil-works/pi-coding-agent";
import { contentText, type FakeOpenAI, startFakeOpenAI } from "@gateway/fakes";
import { bridgeKeys, pushEvent } from "@gateway/redis-bridge";
// @ts-expect-error -- a plain .mjs helper of the private vitest preset
import { useRedis } from "@gateway/vitest-preset/redis";
import { skipUnlessAvailable, until } from "@gateway/vitest-preset/wait";
import { Redis } from "ioredis";
import { afterAll, beforeAll, expect, it } from "vitest";
import { createGatewayExtension, optionsFromEnv } from "../src/index.js";

process.env.PI_OFFLINE = "1";
// This run's keys only: a gateway draining the same Redis never sees them, and no user key is touched.
const keyPrefix = `gateway-test-pi-${process.pid}-${Date.now()}:`;
const keys = bridgeKeys(keyPrefix);
let fake: FakeOpenAI;
let redisHandle: { url: string; stop(): Promise<void> } | undefined;
const dir = mkdtempSync(join(tmpdir(), "pi-extension-"));
beforeAll(async () => {
  fake = await startFakeOpenAI();
  redisHandle = await useRedis();
});
afterAll(async () => {
  await fake.close();
  await redisHandle?.stop();
  rmSync(dir, { recursive: true, force: true });
});

it("reads its role and Redis from the environment", () => {
  expect(optionsFromEnv({ GATEWAY_ROLE: "central", GATEWAY_WATCHDOG_MINUTES: "30" })).toEqual({
    redisUrl: "redis://127.0.0.1:6379",
    role: "central",
    watchdogMs: 1_800_000,
  });
  expect(optionsFromEnv({}).role).toBe("satellite");
});

it("an event pushed for this session becomes a user message in the pi session", async (context) => {
  skipUnlessAvailable(redisHandle !== undefined, "Redis (REDIS_URL, 127.0.0.1:6379 or redis-server)", () =>
    context.skip(),
  );
  const sessionId = `pid-test-${process.pid}-${Date.now()}`;
  const authStorage = AuthStorage.inMemory();
  authStorage.setRuntimeApiKey("fake", "sk-test");
  const modelRegistry = ModelRegistry.inMemory(authStorage);
  modelRegistry.registerProvider("fake", {
    baseUrl: fake.baseUrl,
    api: "openai-completions",
    apiKey: "sk-test",
    models: [
      {
        id: "fake-model",
        name: "fake",
        reasoning: false,
        input: ["text"],
        cost: { input: 0, output: 0, cacheRead: 0, cacheWrite: 0 },
        contextWindow: 128_000,
        maxTokens: 4_096,
      },
    ],
  });
  const settingsManager = SettingsManager.inMemory({ retry: { enabled: false }, compaction: { enabled: false } });
  const resourceLoader = new DefaultResourceLoader({
    cwd: dir,
    agentDir: join(dir, "agent"),
    settingsManager,
    extensionFactories: [
      createGatewayExtension({
        redisUrl: redisHandle.url,
        role: "satellite",
        sessionId,
        pollIntervalMs: 200,
        keyPrefix,
      }),
    ],
    noSkills: true,
    noPromptTemplates: true,
    noThemes: true,
    systemPromptOverride: () => "You are terse.",
  } as ConstructorParameters<typeof DefaultResourceLoader>[0]);
  await resourceLoader.reload();
  const { session } = await createAgentSession({
    cwd: dir,
    agentDir: join(dir, "agent"),
    authStorage,
    modelRegistry,
    model: modelRegistry.find("fake", "fake-model")!,
    thinkingLevel: "off",
    noTools: "builtin",
    resourceLoader,
    sessionManager: SessionManager.inMemory(dir),
    settingsManager,
  });
  await session.bindExtensions({});
  const redis = new Redis(redisHandle.url);
  try {
    expect(await redis.sismember(keys.sessions, sessionId)).toBe(1);
    const before = fake.requests.length;
    const { sessions } = await pushEvent(redis, "download.complete", "my-script", { file: "video.mp4" }, sessionId, {
      keyPrefix,
    });
    expect(sessions).toContain(sessionId);
    await until(() => fake.requests.length > before, { timeoutMs: 10_000, message: "the model to be asked" });
    const request = fake.requests.at(-1)!;
    const lastUser = [...request.body.messages!].reverse().find((message) => message.role === "user")!;
    expect(contentText(lastUser.content)).toMatch(
      /^## 🔔 1 event\(s\) — .*\n\n- \*\*\[\d\d:\d\d:\d\d\] download\.complete\*\* \(my-script\) \{"file":"video\.mp4"\}/,
    );
    await session.extensionRunner.emit({ type: "session_shutdown", reason: "quit" } as never);
    expect(await redis.sismember(keys.sessions, sessionId)).toBe(0);
  } finally {
    for (const key of await redis.keys(`${keyPrefix}*`)) await redis.del(key);
    redis.disconnect();
    session.dispose();
  }
});
