// @gateway/plugin-sdk/testing — the conformance suite every channel plugin runs, and a test context.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { isFatal } from "./errors.js";
import { createTestContext } from "./test-context.js";
import { CHANNEL_SPECIFICATION_VERSION, type ChannelPlugin } from "./types.js";

export { createTestContext } from "./test-context.js";

/** A running fake of the platform and configs that point at it. */
export interface ConformanceFixture<Config> {
  config: Config;
  /** A config the platform refuses for good (a revoked token). */
  fatalConfig: Config;
  /** Make the platform deliver a direct message to the account. */
  injectDirect(text: string, sender: { id: string; name: string }): Promise<void>;
  /** The conversation id the injected direct messages arrive in (replies go there). */
  directPeer: string;
  /** Everything the account sent, in order. */
  sent(): Array<{ peer: string; text: string }>;
  /** Make the platform unreachable, then reachable again (same address). */
  goDown(): Promise<void>;
  comeBack(): Promise<void>;
  teardown(): Promise<void>;
}

/** How the suite gets a plugin and its platform fake. */
export interface ConformanceHarness<Config> {
  plugin: ChannelPlugin<Config>;
  setup(): Promise<ConformanceFixture<Config>>;
}

/**
 * The conformance suite (vitest): start/stop idempotence, inbound normalization, outbound chunking to the platform's
 * limit in order, status transitions, fatal vs retryable errors, and stop during a reconnect. Call it at the top level
 * of a test file.
 */
export function channelConformance<Config>(harness: ConformanceHarness<Config>): void {
  const { plugin } = harness;
  describe(`channel conformance: ${plugin.id}`, () => {
    let fixture: ConformanceFixture<Config>;
    beforeAll(async () => {
      fixture = await harness.setup();
    }, 30_000);
    afterAll(() => fixture?.teardown());

    /** A fresh account over a test context, stopped and cleaned up whatever the test does. */
    const withAccount = async (
      config: Config,
      body: (
        account: ReturnType<ChannelPlugin<Config>["createAccount"]>,
        test: ReturnType<typeof createTestContext>,
      ) => Promise<void>,
    ) => {
      const test = createTestContext(plugin.id, "default", config);
      const account = plugin.createAccount("default", config);
      try {
        await body(account, test);
      } finally {
        await account.stop();
        test.dispose();
      }
    };

    it("declares the contract version, an id, a label, capabilities and a config schema", () => {
      expect(plugin.specificationVersion).toBe(CHANNEL_SPECIFICATION_VERSION);
      expect(plugin.id).toMatch(/^[a-z][a-z0-9-]*$/);
      expect(plugin.meta.label).toBeTruthy();
      expect(plugin.capabilities.maxTextLength).toBeGreaterThanOrEqual(16);
      expect(plugin.capabilities.chatTypes).toContain("direct");
      expect(plugin.configSchema.type).toBe("object");
    });

    it("start and stop are idempotent, and the status follows", async () => {
      await withAccount(fixture.config, async (account, test) => {
        await Promise.all([account.start(test.context), account.start(test.context)]);
        await account.start(test.context);
        expect(test.status()).toMatchObject({ running: true, connected: true, fatal: false });
        await account.stop();
        await account.stop();
        expect(test.status()).toMatchObject({ running: false, connected: false });
      });
    });

    it("normalizes an inbound direct message", async () => {
      await withAccount(fixture.config, async (account, test) => {
        await account.start(test.context);
        await fixture.injectDirect("hello from the platform", { id: "4242", name: "Ada" });
        await test.until(() => test.received.length > 0);
        const message = test.received[0]!;
        expect(message).toMatchObject({
          channel: plugin.id,
          accountId: "default",
          chatType: "direct",
          peer: fixture.directPeer,
          sender: { id: "4242", name: "Ada" },
          text: "hello from the platform",
          wasMentioned: false,
        });
        expect(message.messageId).toBeTruthy();
        expect(message.timestamp).toBeGreaterThan(0);
        expect(test.status().lastInboundAt).toBeGreaterThan(0);
      });
    });

    it("chunks long text to the platform's limit and sends the chunks in order", async () => {
      await withAccount(fixture.config, async (account, test) => {
        await account.start(test.context);
        const limit = plugin.capabilities.maxTextLength;
        const words = Array.from(
          { length: Math.ceil((limit * 2.5) / 8) },
          (_, index) => `w${String(index).padStart(5, "0")}`,
        );
        const text = words.join(" ");
        const before = fixture.sent().length;
        const result = await account.sendText({ peer: fixture.directPeer, text });
        const sent = fixture.sent().slice(before);
        expect(sent.length).toBeGreaterThanOrEqual(3);
        expect(result.messageIds).toHaveLength(sent.length);
        expect(result.messageId).toBe(result.messageIds[0]);
        for (const message of sent) {
          expect(message.peer).toBe(fixture.directPeer);
          expect(message.text.length).toBeLessThanOrEqual(limit);
        }
        expect(
          sent
            .map((message) => message.text)
            .join(" ")
            .split(/\s+/),
        ).toEqual(words);
        expect(test.status().lastOutboundAt).toBeGreaterThan(0);
      });
    });

    it("a fatal error (bad credentials) fails start with fatal status, without a retry loop", async () => {
      await withAccount(fixture.fatalConfig, async (account, test) => {
        const failure = await account.start(test.context).then(
          () => undefined,
          (error: unknown) => error,
        );
        expect(isFatal(failure)).toBe(true);
        expect(test.status()).toMatchObject({ fatal: true, connected: false });
        expect(test.status().lastError).toBeTruthy();
      });
    });

    it("a platform outage is retryable: the account reconnects and messages flow again", async () => {
      await withAccount(fixture.config, async (account, test) => {
        await account.start(test.context);
        await fixture.goDown();
        await test.until(() => test.status().connected === false || (test.status().reconnectAttempts ?? 0) > 0, 10_000);
        await fixture.comeBack();
        await fixture.injectDirect("after the outage", { id: "4242", name: "Ada" });
        await test.until(() => test.received.some((message) => message.text === "after the outage"), 15_000);
        expect(test.status()).toMatchObject({ connected: true, fatal: false });
      });
    }, 30_000);

    it("stop during a reconnect ends it promptly", async () => {
      await withAccount(fixture.config, async (account, test) => {
        try {
          await account.start(test.context);
          await fixture.goDown();
          await test.until(
            () => test.status().connected === false || (test.status().reconnectAttempts ?? 0) > 0,
            10_000,
          );
          const started = Date.now();
          await account.stop();
          expect(Date.now() - started).toBeLessThan(3_000);
          expect(test.status()).toMatchObject({ running: false });
        } finally {
          await fixture.comeBack();
        }
      });
    }, 30_000);
  });
}
