// QR-style logins through a running gateway: web.login.start shows the QR, web.login.wait a fresh one until the phone
// has scanned, then the account restarts on its login and status shows it linked; channels.logout clears it.
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { qrLoginPluginPath } from "@gateway/fakes";
import { starts } from "@gateway/fakes/qr-login-plugin";
import { eventually } from "@gateway/vitest-preset/wait";
import { afterEach, describe, expect, it } from "vitest";
import { startGateway, stopAll } from "./harness.js";

afterEach(stopAll);

describe("channel logins", () => {
  it("a QR login: a fresh QR while waiting, the account restarts once linked, status shows it; logout clears it", async () => {
    const plugin = qrLoginPluginPath;
    const { client } = await startGateway({
      plugins: [plugin],
      channels: { qrchat: { dir: join(process.env.TMPDIR ?? "/tmp", `qrchat-${process.pid}-${Date.now()}`) } },
    });
    const operator = await client();
    await eventually(async () => {
      const account = (await operator.request("channels.status", {})).channelAccounts.qrchat?.[0];
      expect(account).toMatchObject({
        healthState: "fatal",
        linked: false,
        details: { connectionState: "not-linked" },
      });
    });
    const before = starts.length;
    const first = await operator.request("web.login.start", {});
    expect(first).toEqual({
      connected: false,
      message: "scan the QR",
      qr: "qr-text-1",
      qrDataUrl: "data:image/png;base64,AAAA",
    });
    const fresh = await operator.request("web.login.wait", { timeoutMs: 30 });
    expect(fresh).toMatchObject({ connected: false, qr: "qr-text-2" });
    const config = (await operator.request("config.get", {})) as { config: { channels: { qrchat: { dir: string } } } };
    writeFileSync(join(config.config.channels.qrchat.dir, "scanned"), "");
    expect(await operator.request("web.login.wait", { timeoutMs: 5_000 })).toMatchObject({ connected: true });
    await eventually(async () => {
      const account = (await operator.request("channels.status", {})).channelAccounts.qrchat?.[0];
      expect(account).toMatchObject({
        healthState: "connected",
        linked: true,
        details: { connectionState: "open", linkedNumber: "+15551234567" },
      });
    });
    expect(starts.length).toBe(before + 1);
    expect(await operator.request("channels.logout", { channel: "qrchat" })).toEqual({
      channel: "qrchat",
      accountId: "default",
      cleared: true,
    });
    expect((await operator.request("channels.status", {})).channelAccounts.qrchat?.[0]?.running).toBe(false);
  });

  it("without a channel that logs in, web.login.start says what to configure", async () => {
    const { client } = await startGateway();
    const failure = await (await client()).request("web.login.start", {}).catch((error: unknown) => error);
    expect(failure).toMatchObject({
      code: "INVALID_REQUEST",
      message: expect.stringMatching(/configure channels\.whatsapp/),
    });
  });
});
