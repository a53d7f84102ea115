// `gateway.tls.autoGenerate`: a self-signed pair made once in <stateDir>/tls/ (key 0600), reused on restart, served
// over wss://, and its fingerprint is the one `status` reports and the peer certificate really has.
import { X509Certificate } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { connect, type TLSSocket } from "node:tls";
import { afterEach, describe, expect, it } from "vitest";
import { generatedCertificatePaths, serverOptionsFromConfig } from "../src/index.js";
import { connectParams, startGateway, TestClient, type TestGateway } from "./helpers.js";

const FINGERPRINT = /^([0-9A-F]{2}:){31}[0-9A-F]{2}$/;
const dirs: string[] = [];
let gateway: TestGateway | undefined;
afterEach(async () => {
  await gateway?.stop();
  gateway = undefined;
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});
const stateDir = () => {
  const dir = mkdtempSync(join(tmpdir(), "gateway-tls-auto-"));
  dirs.push(dir);
  return dir;
};
const autoGenerate = { gateway: { tls: { enabled: true, autoGenerate: true } } };

function peerFingerprint(url: string): Promise<string> {
  const { hostname, port } = new URL(url.replace(/^wss/, "https"));
  return new Promise((resolve, reject) => {
    const socket: TLSSocket = connect({ host: hostname, port: Number(port), rejectUnauthorized: false }, () => {
      resolve(socket.getPeerX509Certificate()!.fingerprint256);
      socket.destroy();
    });
    socket.once("error", reject);
  });
}

describe("gateway.tls.autoGenerate", () => {
  it("generates the pair once (key 0600, dir 0700) and reuses it", () => {
    const dir = stateDir();
    const first = serverOptionsFromConfig(autoGenerate, { stateDir: dir });
    const { certPath, keyPath } = generatedCertificatePaths(dir);
    expect(statSync(keyPath).mode & 0o777).toBe(0o600);
    expect(statSync(join(dir, "tls")).mode & 0o777).toBe(0o700);
    const certificate = new X509Certificate(readFileSync(certPath));
    expect(certificate.fingerprint256).toMatch(FINGERPRINT);
    expect(certificate.subjectAltName).toMatch(/DNS:localhost.*IP Address:127\.0\.0\.1/);
    expect(certificate.verify(certificate.publicKey)).toBe(true); // self-signed
    const again = serverOptionsFromConfig(autoGenerate, { stateDir: dir });
    expect(again.tls!.cert.toString()).toBe(first.tls!.cert.toString());
    expect(again.tls!.key.toString()).toBe(first.tls!.key.toString());
  });

  it("serves wss:// with it, and status reports the fingerprint the peer certificate has", async () => {
    const dir = stateDir();
    const { tls } = serverOptionsFromConfig(autoGenerate, { stateDir: dir });
    gateway = await startGateway({ tls: tls! });
    expect(gateway.url).toMatch(/^wss:/);
    const client = await TestClient.open(gateway.url, {}, { rejectUnauthorized: false });
    await client.waitForEvent("connect.challenge");
    expect((await client.request("connect", connectParams())).ok).toBe(true);
    const status = await client.request("status");
    client.close();
    const served = await peerFingerprint(gateway.url);
    expect(served).toMatch(FINGERPRINT);
    expect(status.payload).toMatchObject({ tls: { fingerprintSha256: served } });
  });

  it("without a state dir, or with autoGenerate off and no files, says what to set", () => {
    expect(() => serverOptionsFromConfig(autoGenerate)).toThrow(/autoGenerate needs the gateway's state dir/);
    expect(() => serverOptionsFromConfig({ gateway: { tls: { enabled: true } } })).toThrow(
      /gateway\.tls\.certPath is not set \(or set gateway\.tls\.autoGenerate: true/,
    );
  });
});
