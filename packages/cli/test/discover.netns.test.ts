// `gateway discover` on one "machine" finds a gateway on another, over a real link between two network namespaces;
// a gateway on loopback, or with discovery.mdns.mode off, is never announced. Skipped loudly without root and
// `ip netns`; under CI=true it must run.
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { checkAvailable, waitForLog } from "@gateway/vitest-preset/wait";
import { afterEach, describe, expect, it } from "vitest";
import { createLink, type Link, netnsAvailable } from "../../discovery/test/netns.js";

const packageDir = join(dirname(fileURLToPath(import.meta.url)), "..");
const child = join(packageDir, "test", "netns-child.ts");
const TOKEN = "discover-test-token-0123456789abcdef";
const available = checkAvailable(netnsAvailable(), "root and `ip netns` (network namespaces for the mDNS test)");
const links: Link[] = [];
const dirs: string[] = [];
afterEach(() => {
  for (const link of links.splice(0)) link.remove();
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

function stateDir(config: Record<string, unknown>): string {
  const dir = mkdtempSync(join(tmpdir(), "gateway-discover-"));
  dirs.push(dir);
  writeFileSync(join(dir, "gateway.json5"), JSON.stringify(config));
  return dir;
}

async function startGateway(
  link: Link,
  config: Record<string, unknown>,
): Promise<{ port: number; exposure: Record<string, unknown> | null }> {
  const gateway = link.run(link.a, packageDir, child, ["gateway", stateDir(config), TOKEN]);
  const [, port] = await waitForLog(gateway.output, /listening (\d+)/, { timeoutMs: 30_000 });
  const [, exposure] = /exposure (.*)\n/.exec(gateway.output()) ?? [];
  return { port: Number(port), exposure: JSON.parse(exposure ?? "null") };
}

async function discover(link: Link, args: string[]): Promise<string> {
  const run = link.run(link.b, packageDir, child, ["discover", "--timeout-ms", "2500", ...args]);
  await waitForLog(run.output, /exit \d+/, { timeoutMs: 30_000 });
  return run.output();
}

describe.skipIf(!available)("gateway discover", () => {
  it("lists a gateway bound to the LAN, with its URL and protocol, and no secret", async () => {
    const link = createLink();
    links.push(link);
    const { port, exposure } = await startGateway(link, {
      gateway: { bind: "lan", port: 0, auth: { mode: "token", token: TOKEN } },
      discovery: { mdns: { name: "box (Gateway)" } },
    });
    expect(exposure).toEqual({
      mdns: { state: "advertising", serviceType: "_openclaw-gw._tcp", name: "box (Gateway)" },
    });
    const json = await discover(link, ["--json"]);
    const found = JSON.parse(json.slice(0, json.lastIndexOf("exit")));
    expect(found).toMatchObject([
      { name: "box (Gateway)", port, url: `ws://${link.addressA}:${port}`, protocolVersion: 4, tls: false },
    ]);
    expect(found[0].txt).toEqual({ role: "gateway", transport: "gateway", gatewayPort: String(port), protocol: "4" });
    expect(json).not.toContain(TOKEN);
    const text = await discover(link, []);
    expect(text).toContain(`box (Gateway)  ws://${link.addressA}:${port}  4`);
  }, 90_000);

  it("never announces a loopback gateway (the default) or one with discovery.mdns.mode off", async () => {
    const link = createLink();
    links.push(link);
    expect(
      (await startGateway(link, { gateway: { port: 0, auth: { mode: "token", token: TOKEN } } })).exposure,
    ).toBeNull();
    const off = await startGateway(link, {
      gateway: { bind: "lan", port: 0, auth: { mode: "token", token: TOKEN } },
      discovery: { mdns: { mode: "off" } },
    });
    expect(off.exposure).toBeNull();
    const text = await discover(link, []);
    expect(text).toContain("no gateway answered");
    expect(text).toContain("exit 0");
  }, 90_000);
});
