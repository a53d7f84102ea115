// Linking a phone through the socket seam (no local server can show a QR): QR and pairing code, the 515 restart
// after a scan, an interrupted login, a stale version, logout.
import { mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { isFatal } from "@gateway/plugin-sdk";
import { createTestContext } from "@gateway/plugin-sdk/test-context";
import { afterEach, describe, expect, it } from "vitest";
import { AuthStore } from "../src/auth-store.js";
import { createWhatsAppChannel } from "../src/index.js";
import { seedLinkedCredentials } from "../src/testing.js";
import { accountStatus } from "./account-status.js";
import { type Behaviour, type FakeSocket, FakeWhatsApp } from "./fake-whatsapp.js";
import { decodePng, scan } from "./qr-decode.js";

const cleanups: Array<() => unknown> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

const QRS = ["2@first-ref,key,identity,secret", "2@second-ref,key,identity,secret", "2@third-ref,key,identity,secret"];

async function setUp(script: Behaviour[], linked = false) {
  const root = mkdtempSync(join(tmpdir(), "wa-login-"));
  const authDir = join(root, "credentials");
  if (linked) await seedLinkedCredentials(authDir, "15550000000@s.whatsapp.net");
  const fake = new FakeWhatsApp();
  fake.script = script;
  const plugin = createWhatsAppChannel({ socketFactory: fake.factory });
  const config = { authDir };
  const test = createTestContext("whatsapp", "default", config);
  const account = plugin.createAccount("default", config);
  cleanups.push(
    () => rmSync(root, { recursive: true, force: true }),
    () => test.dispose(),
    () => account.stop(),
  );
  return { fake, plugin, config, test, account, authDir };
}

/** What the phone does when the QR is scanned (or the code entered): WhatsApp pairs, then asks for a restart. */
function pair(socket: FakeSocket) {
  socket.emit("creds.update", { me: { id: "15551234567:3@s.whatsapp.net", name: "Ada" }, platform: "smba" });
  socket.emit("connection.update", { isNewLogin: true, qr: undefined });
  socket.close(515);
}

describe("login", () => {
  it("an account never linked fails its start fatally, with the command that links it", async () => {
    const { test, account } = await setUp([{ kind: "open" }]);
    const failure = await account.start(test.context).catch((error: unknown) => error as Error);
    expect(isFatal(failure)).toBe(true);
    expect(failure!.message).toContain("not linked to a phone yet: run gateway channels login whatsapp");
    expect(accountStatus(test)).toMatchObject({ fatal: true, connectionState: "not-linked" });
  });

  it("QR: the first QR (text and scannable PNG), a fresh one on wait, then a scan, the silent 515 restart and linked", async () => {
    const { fake, test, account, authDir, plugin, config } = await setUp([{ kind: "qr", qrs: QRS }, { kind: "open" }]);
    await account.start(test.context).catch(() => undefined);
    const first = await account.loginStart!({});
    expect(first).toMatchObject({ connected: false, qr: QRS[0] });
    expect(first.message).toMatch(/Linked devices/);
    expect(scan(decodePng(Buffer.from(first.qrDataUrl!.split(",")[1]!, "base64")))).toBe(QRS[0]);
    const second = await account.loginWait!({ timeoutMs: 5_000 });
    expect(second.qr).toBe(QRS[1]);
    // Nothing is linked while the QR waits.
    expect(await AuthStore.exists(authDir)).toBe(false);
    pair(fake.sockets[0]!);
    let state = await account.loginWait!({ timeoutMs: 5_000 });
    while (!state.connected && state.qr) state = await account.loginWait!({ timeoutMs: 5_000 });
    expect(state).toMatchObject({ connected: true, message: "linked to +15550000000" });
    expect(fake.sockets).toHaveLength(2);
    // The socket after the 515 restart was made with the paired credentials.
    expect(fake.sockets[0]!.meAtCreation).toBeUndefined();
    expect(fake.sockets[1]!.meAtCreation).toMatchObject({ id: "15551234567:3@s.whatsapp.net" });
    const store = (await AuthStore.open(authDir))!;
    expect(store.creds.me).toMatchObject({ id: expect.stringMatching(/@s\.whatsapp\.net$/) });
    await store.close();
    // The account starts with what the login stored.
    fake.script = [{ kind: "open" }];
    const next = createTestContext("whatsapp", "default", config);
    const linked = plugin.createAccount("default", config);
    cleanups.push(
      () => next.dispose(),
      () => linked.stop(),
    );
    await linked.start(next.context);
    expect(accountStatus(next)).toMatchObject({ connected: true, connectionState: "open" });
  });

  it("pairing code: asked for only once WhatsApp showed a QR, returned formatted, no QR shown", async () => {
    const { fake, test, account, authDir } = await setUp([{ kind: "qr", qrs: QRS }, { kind: "open" }]);
    await account.start(test.context).catch(() => undefined);
    const state = await account.loginStart!({ phoneNumber: "+1 (555) 123-4567" });
    expect(state).toMatchObject({ connected: false, pairingCode: "ABCD-2345" });
    expect(state.qr).toBeUndefined();
    expect(state.message).toContain("Link with phone number");
    expect(fake.sockets[0]!.pairingRequests).toEqual(["15551234567"]);
    pair(fake.sockets[0]!);
    expect(await account.loginWait!({ timeoutMs: 5_000 })).toMatchObject({ connected: true });
    expect(await AuthStore.exists(authDir)).toBe(true);
  });

  it("a bad phone number is refused with the format to use", async () => {
    const { test, account } = await setUp([{ kind: "qr", qrs: QRS }]);
    await account.start(test.context).catch(() => undefined);
    const failure = await account.loginStart!({ phoneNumber: "call me" }).catch((error: Error) => error);
    expect((failure as Error).message).toMatch(/international format, e\.g\. \+15551234567/);
  });

  it("an interrupted login leaves nothing behind; linked credentials stay until a new login completes", async () => {
    const { fake, account, authDir } = await setUp([{ kind: "qr", qrs: QRS }], true);
    const state = await account.loginStart!({ force: true });
    expect(state.qr).toBe(QRS[0]);
    // The new login's creds are being written, beside the linked ones…
    fake.sockets[0]!.emit("creds.update", { me: { id: "15559999999@s.whatsapp.net", name: "~" } });
    expect(readdirSync(authDir).filter((name) => name.startsWith("auth-"))).toHaveLength(2);
    // …when the account is stopped (a config change, a gateway stop) before the scan.
    await account.stop();
    expect(fake.sockets[0]!.ended).toBe(true);
    expect(readdirSync(authDir).filter((name) => name.startsWith("auth-"))).toHaveLength(1);
    const store = (await AuthStore.open(authDir))!;
    expect(store.creds.me).toEqual({ id: "15550000000@s.whatsapp.net" });
    await store.close();
  });

  it("405 at login: the stale WhatsApp Web version message", async () => {
    const { test, account, authDir } = await setUp([{ kind: "close", code: 405 }]);
    await account.start(test.context).catch(() => undefined);
    const state = await account.loginStart!({});
    expect(state).toEqual({
      connected: false,
      message: "the WhatsApp Web version is stale: set channels.whatsapp.waVersion or update",
    });
    expect(readdirSync(authDir).filter((name) => name.startsWith("auth-"))).toEqual([]);
  });

  it("the QRs run out (408): the login says to start again, and leaves nothing", async () => {
    const { fake, test, account, authDir } = await setUp([{ kind: "qr", qrs: [QRS[0]!] }]);
    await account.start(test.context).catch(() => undefined);
    await account.loginStart!({});
    fake.sockets[0]!.close(408);
    const state = await account.loginWait!({ timeoutMs: 5_000 });
    expect(state.connected).toBe(false);
    expect(state.message).toMatch(/timed out .*start it again/);
    expect(readdirSync(authDir).filter((name) => name.startsWith("auth-"))).toEqual([]);
  });

  it("already linked, without force: says so and keeps the credentials", async () => {
    const { fake, test, account } = await setUp([{ kind: "open" }], true);
    await account.start(test.context);
    const state = await account.loginStart!({});
    expect(state.connected).toBe(true);
    expect(state.message).toMatch(/already linked/);
    expect(fake.sockets).toHaveLength(1);
  });

  it("logout unlinks at WhatsApp, stops the account and removes the credentials (true once)", async () => {
    const { fake, test, account, authDir } = await setUp([{ kind: "open" }], true);
    await account.start(test.context);
    expect(await account.logout!()).toBe(true);
    expect(fake.sockets[0]!.loggedOut).toBe(true);
    expect(await AuthStore.exists(authDir)).toBe(false);
    expect(accountStatus(test)).toMatchObject({ running: false, connectionState: "logged-out" });
    expect(await account.logout!()).toBe(false);
  });
});
