// The canvas host inside the gateway: off by default, started with it when enabled, its URL in hello-ok (the
// reference's `pluginSurfaceUrls.canvas`) and in status, serving the state directory's canvas folder.
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createGatewayClient } from "@gateway/client";
import { afterEach, describe, expect, it } from "vitest";
import { loadReferenceSchema, referenceValidators } from "../../protocol/test/reference-schema.js";
import { canvasUrlFor } from "../src/canvas.js";
import { createGateway, type Gateway } from "../src/index.js";

const TOKEN = "canvas-test-token-0123456789";
const dirs: string[] = [];
const gateways: Gateway[] = [];
afterEach(async () => {
  for (const gateway of gateways.splice(0)) await gateway.close();
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

async function startGateway(
  config: Record<string, unknown>,
): Promise<{ gateway: Gateway; url: string; stateDir: string }> {
  const stateDir = mkdtempSync(join(tmpdir(), "gateway-canvas-"));
  dirs.push(stateDir);
  writeFileSync(
    join(stateDir, "gateway.json5"),
    JSON.stringify({ gateway: { port: 0, auth: { mode: "token", token: TOKEN } }, ...config }),
  );
  const gateway = createGateway({ stateDir, logging: { stdout: false } });
  gateways.push(gateway);
  const { url } = await gateway.listen();
  return { gateway, url, stateDir };
}

describe("the canvas host in the gateway", () => {
  it("is off by default: no URL in hello-ok, nothing in status", async () => {
    const { url } = await startGateway({});
    const client = createGatewayClient({ url, token: TOKEN, reconnect: false });
    try {
      const hello = await client.ready();
      expect(hello.pluginSurfaceUrls).toBeUndefined();
      expect((await client.request("status")).exposure).toBeUndefined();
    } finally {
      client.close();
    }
  });

  it("when enabled, serves <state>/canvas and hands its URL out in hello-ok and status", async () => {
    const { url, stateDir } = await startGateway({ canvasHost: { enabled: true, port: 0 } });
    writeFileSync(join(stateDir, "canvas", "index.html"), "<body><h1>drawn by the agent</h1></body>");
    const client = createGatewayClient({ url, token: TOKEN, reconnect: false });
    try {
      const hello = await client.ready();
      const canvasUrl = hello.pluginSurfaceUrls?.canvas;
      // The reference's schema takes it: the field its nodes and Control UI read.
      const referenceHello = referenceValidators(loadReferenceSchema())("HelloOk");
      expect(referenceHello(hello), JSON.stringify(referenceHello.errors)).toBe(true);
      expect(canvasUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
      expect(canvasUrl).not.toBe(url.replace("ws:", "http:"));
      const page = await fetch(canvasUrl!);
      expect(page.headers.get("content-type")).toBe("text/html; charset=utf-8");
      expect(await page.text()).toContain("<h1>drawn by the agent</h1>");
      const status = await client.request("status");
      expect(status.exposure?.canvasHost).toEqual({ url: canvasUrl, liveReloadPages: 0 });
    } finally {
      client.close();
    }
  });

  it("a changed canvasHost section rebuilds the host; turning it off takes the URL away", async () => {
    const { gateway, url } = await startGateway({ canvasHost: { enabled: true, port: 0 } });
    const client = createGatewayClient({ url, token: TOKEN, reconnect: false });
    try {
      await client.ready();
      const first = (await client.request("status")).exposure?.canvasHost?.url;
      expect(first).toBeDefined();
      await gateway.config.write(
        "patch",
        JSON.stringify({ canvasHost: { enabled: false } }),
        gateway.config.get().hash ?? undefined,
      );
      expect((await client.request("status")).exposure).toBeUndefined();
      await expect(fetch(first!)).rejects.toThrow();
    } finally {
      client.close();
    }
  });
});

describe("canvasUrlFor", () => {
  const loopback = { host: "127.0.0.1", port: 18793, url: "http://127.0.0.1:18793" };
  const everywhere = { host: "0.0.0.0", port: 18793, url: "http://0.0.0.0:18793" };
  it("keeps a loopback canvas on loopback, in the client's own spelling when that is loopback too", () => {
    expect(canvasUrlFor(loopback, "localhost:18789")).toBe("http://localhost:18793");
    expect(canvasUrlFor(loopback, "192.168.1.5:18789")).toBe("http://127.0.0.1:18793");
    expect(canvasUrlFor(loopback, undefined)).toBe("http://127.0.0.1:18793");
  });
  it("gives a LAN client the name it reached the gateway by", () => {
    expect(canvasUrlFor(everywhere, "gateway.lan:18789")).toBe("http://gateway.lan:18793");
    expect(canvasUrlFor(everywhere, "[fd00::2]:18789")).toBe("http://[fd00::2]:18793");
    expect(canvasUrlFor(everywhere, undefined)).toBe("http://127.0.0.1:18793");
  });
});
