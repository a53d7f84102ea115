// Tailscale exposure inside the gateway, with a fake `tailscale` on the gateway's PATH: serve once it listens, the
// tailnet URL in status, a config change followed, the route undone on close; funnel/serve without auth refused.
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createGatewayClient } from "@gateway/client";
import { afterEach, describe, expect, it } from "vitest";
import { type FakeTailscale, installFakeTailscale } from "../../tailscale/test/fake.js";
import { createGateway, type Gateway } from "../src/index.js";

const TOKEN = "tailscale-test-token-0123456789";
const dirs: string[] = [];
const fakes: FakeTailscale[] = [];
const gateways: Gateway[] = [];
afterEach(async () => {
  for (const gateway of gateways.splice(0)) await gateway.close();
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
  for (const fake of fakes.splice(0)) fake.remove();
});

function create(gatewaySection: Record<string, unknown>, fake: FakeTailscale): Gateway {
  const stateDir = mkdtempSync(join(tmpdir(), "gateway-tailscale-"));
  dirs.push(stateDir);
  writeFileSync(
    join(stateDir, "gateway.json5"),
    JSON.stringify({ gateway: { port: 0, auth: { mode: "token", token: TOKEN }, ...gatewaySection } }),
  );
  const gateway = createGateway({ stateDir, env: fake.env, logging: { stdout: false } });
  gateways.push(gateway);
  return gateway;
}

function fakeTailscale(): FakeTailscale {
  const fake = installFakeTailscale();
  fakes.push(fake);
  return fake;
}

describe("gateway.tailscale", () => {
  it("off by default: the tailscale command is never run", async () => {
    const fake = fakeTailscale();
    const gateway = create({}, fake);
    await gateway.listen();
    await gateway.close();
    expect(fake.calls()).toEqual([]);
  });

  it("serve: the gateway's port on the tailnet, the URL in status, followed on change, undone on close", async () => {
    const fake = fakeTailscale();
    const gateway = create({ tailscale: { mode: "serve" } }, fake);
    const { url, port } = await gateway.listen();
    expect(fake.calls()).toContainEqual(["serve", "--bg", "--yes", `http://127.0.0.1:${port}`]);
    const client = createGatewayClient({ url, token: TOKEN, reconnect: false });
    try {
      await client.ready();
      const status = await client.request("status");
      expect(status.exposure?.tailscale).toEqual({
        mode: "serve",
        state: "active",
        url: "https://gateway-box.tail1234.ts.net",
      });
      // Turning auth off under an exposure is refused, and nothing changes.
      const refused = gateway.config.write(
        "patch",
        JSON.stringify({ gateway: { auth: { mode: "none" } } }),
        gateway.config.get().hash ?? undefined,
      );
      await expect(refused).rejects.toThrow("the config was refused (nothing changed)");
      await gateway.config.write(
        "patch",
        JSON.stringify({ gateway: { tailscale: { mode: "off" } } }),
        gateway.config.get().hash ?? undefined,
      );
      expect(fake.calls().at(-1)).toEqual(["serve", "--https=443", "off"]);
      expect((await client.request("status")).exposure).toBeUndefined();
    } finally {
      client.close();
    }
    await gateway.close();
    expect(fake.calls().filter((call) => call.at(-1) === "off")).toHaveLength(1);
  });

  it("a Tailscale that is not logged in leaves the gateway running, with the reason in status", async () => {
    const fake = fakeTailscale();
    fake.scenario({ backend: "NeedsLogin" });
    const gateway = create({ tailscale: { mode: "serve" } }, fake);
    const { url } = await gateway.listen();
    const client = createGatewayClient({ url, token: TOKEN, reconnect: false });
    try {
      await client.ready();
      const status = await client.request("status");
      expect(status.exposure?.tailscale).toMatchObject({ mode: "serve", state: "failed" });
      expect(status.warnings.join("\n")).toContain("tailscale serve is not active: Tailscale is not connected");
    } finally {
      client.close();
    }
  });

  it("funnel with auth none does not start, and says why", () => {
    const fake = fakeTailscale();
    expect(() => create({ auth: { mode: "none" }, tailscale: { mode: "funnel" } }, fake)).toThrow(
      /gateway.tailscale.mode.*public internet, and gateway.auth.mode is none/s,
    );
    expect(fake.calls()).toEqual([]);
  });
});
