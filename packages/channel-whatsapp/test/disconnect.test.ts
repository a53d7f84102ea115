// The disconnect policy, code by code, through the socket seam: 401 wipes and stops, 440 stops, 515 reconnects at
// once, 428/408/500/503/no code reconnect with backoff and jitter.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { isFatal } from "@gateway/plugin-sdk";
import { createTestContext } from "@gateway/plugin-sdk/test-context";
import { afterEach, describe, expect, it } from "vitest";
import { AuthStore } from "../src/auth-store.js";
import { createWhatsAppChannel } from "../src/index.js";
import { seedLinkedCredentials } from "../src/testing.js";
import { accountStatus } from "./account-status.js";
import { type Behaviour, FakeWhatsApp, SELF } from "./fake-whatsapp.js";

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function setUp(script: Behaviour[] = [{ kind: "open" }], baseMs = 100) {
  const root = mkdtempSync(join(tmpdir(), "wa-disconnect-"));
  const authDir = join(root, "credentials");
  await seedLinkedCredentials(authDir, SELF.id.replace(":7", ""));
  const fake = new FakeWhatsApp();
  fake.script = script;
  const config = { authDir, reconnect: { baseMs, maxMs: baseMs * 8 } };
  const test = createTestContext("whatsapp", "work", config);
  const account = createWhatsAppChannel({ socketFactory: fake.factory }).createAccount("work", config);
  cleanups.push(() => rmSync(root, { recursive: true, force: true }));
  cleanups.push(() => test.dispose());
  cleanups.push(() => account.stop());
  const status = () => accountStatus(test);
  return { fake, test, account, authDir, status };
}

const quiet = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe("disconnect policy", () => {
  it("401 logged out: credentials wiped, status logged-out with the command to log in again, no reconnect", async () => {
    const { fake, test, account, authDir, status } = await setUp();
    await account.start(test.context);
    fake.current.close(401);
    await test.until(() => test.errors.length === 1);
    expect(isFatal(test.errors[0])).toBe(true);
    expect(status()).toMatchObject({
      fatal: true,
      connected: false,
      connectionState: "logged-out",
      linkedNumber: null,
    });
    expect(status().lastError).toContain("gateway channels login whatsapp --account work");
    expect(status().lastDisconnect).toMatchObject({ code: 401 });
    expect(await AuthStore.exists(authDir)).toBe(false);
    await quiet(400);
    expect(fake.sockets).toHaveLength(1);
  });

  it("401 at start: the start fails fatally and the credentials are gone", async () => {
    const { fake, test, account, authDir, status } = await setUp([{ kind: "close", code: 401 }]);
    const failure = await account.start(test.context).catch((error: unknown) => error);
    expect(isFatal(failure)).toBe(true);
    expect(status()).toMatchObject({ fatal: true, connectionState: "logged-out" });
    expect(await AuthStore.exists(authDir)).toBe(false);
    expect(fake.sockets).toHaveLength(1);
  });

  it("440 replaced: stops, status says another client took the session; the credentials stay", async () => {
    const { fake, test, account, authDir, status } = await setUp();
    await account.start(test.context);
    fake.current.close(440);
    await test.until(() => test.errors.length === 1);
    expect(status()).toMatchObject({ fatal: true, connectionState: "replaced" });
    expect(status().lastError).toMatch(/another WhatsApp Web client took over this session/);
    expect(await AuthStore.exists(authDir)).toBe(true);
    await quiet(400);
    expect(fake.sockets).toHaveLength(1);
  });

  it("515 restart required: a new socket at once, no backoff, no reconnect attempt counted", async () => {
    const { fake, test, account, status } = await setUp([{ kind: "open" }], 5_000);
    await account.start(test.context);
    const closedAt = Date.now();
    fake.current.close(515);
    await test.until(() => fake.sockets.length === 2 && fake.current.isOpen, 2_000);
    expect(Date.now() - closedAt).toBeLessThan(1_000);
    expect(test.errors).toHaveLength(0);
    expect(status()).toMatchObject({ connected: true, reconnectAttempts: 0, connectionState: "open" });
    expect(status().lastDisconnect).toMatchObject({ code: 515 });
  });

  it("515 at start (right after a login): the start completes on the next socket", async () => {
    const { fake, test, account, status } = await setUp([{ kind: "close", code: 515 }, { kind: "open" }]);
    await account.start(test.context);
    expect(fake.sockets).toHaveLength(2);
    expect(status()).toMatchObject({ connected: true, connectionState: "open" });
  });

  for (const code of [428, 408, 500, 503, undefined]) {
    it(`${code ?? "no code"}: reconnects after a backoff with jitter, attempts in status, then flows again`, async () => {
      const { fake, test, account, status } = await setUp([
        { kind: "open" },
        { kind: "close", code },
        { kind: "close", code },
        { kind: "open" },
      ]);
      await account.start(test.context);
      const closedAt = Date.now();
      fake.current.close(code);
      await test.until(() => status().connected === false && (status().reconnectAttempts ?? 0) >= 1);
      expect(status()).toMatchObject({ fatal: false, connectionState: "reconnecting" });
      expect(status().lastDisconnect).toMatchObject({ code: code ?? null });
      await test.until(() => fake.sockets.length === 4 && fake.current.isOpen, 5_000);
      // Attempts wait ~100, ~200, ~400 ms (±20 % jitter): never a tight loop.
      expect(Date.now() - closedAt).toBeGreaterThanOrEqual(0.8 * (100 + 200 + 400));
      expect(status()).toMatchObject({ connected: true, reconnectAttempts: 0, connectionState: "open" });
      expect(test.errors).toHaveLength(0);
    });
  }

  it("405 while connecting: stopped with the stale-version message (no network fetch of a newer one)", async () => {
    const { test, account, status } = await setUp([{ kind: "close", code: 405 }]);
    const failure = await account.start(test.context).catch((error: unknown) => error as Error);
    expect(isFatal(failure)).toBe(true);
    expect(status().connectionState).toBe("stale-version");
    expect(status().lastError).toContain(
      "the WhatsApp Web version is stale: set channels.whatsapp.waVersion or update",
    );
  });

  it("the configured waVersion reaches the socket", async () => {
    const root = mkdtempSync(join(tmpdir(), "wa-version-"));
    cleanups.push(() => rmSync(root, { recursive: true, force: true }));
    await seedLinkedCredentials(join(root, "c"), "15550000000@s.whatsapp.net");
    const fake = new FakeWhatsApp();
    const config = { authDir: join(root, "c"), waVersion: "2.3000.1234567" };
    const test = createTestContext("whatsapp", "default", config);
    const account = createWhatsAppChannel({ socketFactory: fake.factory }).createAccount("default", config);
    cleanups.push(
      () => test.dispose(),
      () => account.stop(),
    );
    await account.start(test.context);
    expect(fake.current.options.version).toEqual([2, 3000, 1234567]);
    expect(fake.current.options.browser[0]).toBe("Mac OS");
  });
});
