// Advertise and browse on a real link between two network namespaces: the reference's service type, a TXT record
// with only port, protocol and TLS fingerprint, goodbyes on stop. Skipped loudly without root; never under CI=true.
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { checkAvailable, waitForLog } from "@gateway/vitest-preset/wait";
import { afterEach, describe, expect, it } from "vitest";
import { GATEWAY_TXT_KEYS } from "../src/index.js";
import { createLink, type Link, netnsAvailable } from "./netns.js";

const packageDir = join(dirname(fileURLToPath(import.meta.url)), "..");
const child = join(packageDir, "test", "netns-child.ts");
const available = checkAvailable(netnsAvailable(), "root and `ip netns` (network namespaces for the mDNS test)");
const links: Link[] = [];
afterEach(() => {
  for (const link of links.splice(0)) link.remove();
});

const FINGERPRINT = "3f".repeat(32);

describe.skipIf(!available)("mDNS between two network namespaces", () => {
  it("a browser on the link finds an advertised gateway, with only connection facts in TXT", async () => {
    const link = createLink();
    links.push(link);
    const advertiser = link.run(link.a, packageDir, child, [
      "advertise",
      "box (Gateway)",
      "18789",
      "0.0.0.0",
      FINGERPRINT,
    ]);
    await waitForLog(advertiser.output, /advertising/, { timeoutMs: 15_000 });
    const browser = link.run(link.b, packageDir, child, ["browse", "2500"]);
    const [, json] = await waitForLog(browser.output, /found (.*)\n/, { timeoutMs: 20_000 });
    const found = JSON.parse(json!);
    expect(found).toHaveLength(1);
    expect(found[0]).toMatchObject({
      name: "box (Gateway)",
      port: 18789,
      addresses: [link.addressA],
      protocolVersion: 4,
      tls: true,
      tlsFingerprintSha256: FINGERPRINT,
      url: `wss://${link.addressA}:18789`,
    });
    expect(Object.keys(found[0].txt).sort()).toEqual([...GATEWAY_TXT_KEYS].sort());
    expect(JSON.stringify(found[0].txt)).not.toMatch(/token|password|secret/i);
    advertiser.child.stdin?.end();
    await waitForLog(advertiser.output, /stopped/, { timeoutMs: 10_000 });
    // After the goodbyes nobody answers any more.
    const again = link.run(link.b, packageDir, child, ["browse", "1500"]);
    const [, after] = await waitForLog(again.output, /found (.*)\n/, { timeoutMs: 20_000 });
    expect(JSON.parse(after!)).toEqual([]);
  }, 60_000);

  it("an advertisement bound to one address stays on its interface", async () => {
    const link = createLink();
    links.push(link);
    const advertiser = link.run(link.a, packageDir, child, ["advertise", "pinned", "18790", link.addressA]);
    const [line] = await waitForLog(advertiser.output, /advertising .*/, { timeoutMs: 15_000 });
    expect(line).toMatch(/"interfaces":\["va[0-9a-f]+"\]/);
    const browser = link.run(link.b, packageDir, child, ["browse", "2500"]);
    const [, json] = await waitForLog(browser.output, /found (.*)\n/, { timeoutMs: 20_000 });
    expect(JSON.parse(json!)).toMatchObject([{ name: "pinned", port: 18790, tls: false }]);
    advertiser.child.stdin?.end();
    await advertiser.exited;
  }, 60_000);
});
