import { execFileSync, spawnSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { checkAvailable } from "@gateway/vitest-preset/wait";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { serverOptionsFromConfig } from "../src/index.js";
import { connectParams, startGateway, TestClient, type TestGateway } from "./helpers.js";

// Loud when skipped here; under CI=true a missing openssl fails the run.
const hasOpenssl = checkAvailable(spawnSync("openssl", ["version"]).status === 0, "openssl (apt-get install openssl)");

describe.skipIf(!hasOpenssl)("TLS", () => {
  let dir = "";
  let gateway: TestGateway | undefined;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), "gateway-tls-"));
    execFileSync(
      "openssl",
      [
        "req",
        "-x509",
        "-newkey",
        "rsa:2048",
        "-nodes",
        "-days",
        "1",
        "-subj",
        "/CN=127.0.0.1",
        "-keyout",
        join(dir, "key.pem"),
        "-out",
        join(dir, "cert.pem"),
      ],
      { stdio: "ignore" },
    );
  });
  afterAll(async () => {
    await gateway?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it("serves wss:// and HTTPS on the same port from gateway.tls", async () => {
    const fromConfig = serverOptionsFromConfig({
      gateway: { tls: { enabled: true, certPath: join(dir, "cert.pem"), keyPath: join(dir, "key.pem") } },
    });
    gateway = await startGateway({ tls: fromConfig.tls! });
    expect(gateway.url).toMatch(/^wss:\/\/127\.0\.0\.1:\d+$/);
    const client = await TestClient.open(gateway.url, {}, { rejectUnauthorized: false });
    await client.waitForEvent("connect.challenge");
    expect((await client.request("connect", connectParams())).ok).toBe(true);
    expect((await client.request("health")).ok).toBe(true);
    client.close();
  });

  it("names the missing or unreadable file", () => {
    expect(() => serverOptionsFromConfig({ gateway: { tls: { enabled: true, keyPath: "/k" } } })).toThrow(
      /gateway\.tls\.certPath is not set/,
    );
    expect(() =>
      serverOptionsFromConfig({ gateway: { tls: { enabled: true, certPath: "/nope.pem", keyPath: "/k" } } }),
    ).toThrow(/gateway\.tls\.certPath: cannot read \/nope\.pem \(ENOENT\)/);
  });
});
