// The browser bundle in a real browser (Debian's chromium through playwright-core): typed requests, events, and the
// gateway's Origin check as a browser sees it.
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from "node:fs";
import { createServer, type Server } from "node:http";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { checkAvailable } from "@gateway/vitest-preset/wait";
import { type Browser, chromium } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DeviceStore } from "../../pairing/src/index.js";
import { createGatewayServer, DevicePairing, type GatewayServer } from "../../server/src/index.js";

const packageDir = join(dirname(fileURLToPath(import.meta.url)), "..");
const bundle = join(packageDir, "dist", "browser", "gateway-client.js");
const chromiumPath = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";
const TOKEN = "browser-test-token-0123456789";
// Loud when skipped here; under CI=true a missing chromium fails the run.
const haveChromium = checkAvailable(existsSync(chromiumPath), `chromium at ${chromiumPath} (apt-get install chromium)`);

const page = `<!doctype html><meta charset="utf-8"><title>client test</title>
<script type="module">
  import { createGatewayClient } from "/gateway-client.js";
  const params = new URLSearchParams(location.search);
  const client = createGatewayClient({
    url: params.get("gateway"), token: params.get("token"), reconnect: false,
    client: { id: "webchat-ui", mode: "webchat", version: "1.0.0" },
  });
  window.__events = [];
  try {
    const hello = await client.ready();
    client.on("heartbeat", (beat) => window.__events.push(beat.status));
    const health = await client.request("health");
    window.__result = { ok: true, protocol: hello.protocol, connections: health.gateway.connections.total };
  } catch (error) {
    window.__result = { ok: false, code: error.code, detailCode: error.detailCode, message: error.message };
  }
</script>`;

// A device identity made and used by the browser's WebCrypto, kept in localStorage: pairs, then reconnects with its token.
const devicePage = `<!doctype html><meta charset="utf-8"><title>device test</title>
<script type="module">
  import { createGatewayClient, loadDeviceIdentity } from "/gateway-client.js";
  const params = new URLSearchParams(location.search);
  const store = {
    async load() { const text = localStorage.getItem("device"); return text ? JSON.parse(text) : undefined; },
    async save(value) { localStorage.setItem("device", JSON.stringify(value)); },
  };
  window.__connect = async (withToken) => {
    const device = await loadDeviceIdentity(store);
    const client = createGatewayClient({
      url: params.get("gateway"), ...(withToken ? { token: params.get("token") } : {}), reconnect: false, device,
      scopes: ["operator.read"], client: { id: "webchat-ui", mode: "webchat", version: "1.0.0" },
    });
    try {
      const hello = await client.ready();
      client.close();
      await new Promise((resolve) => setTimeout(resolve, 50));
      return { ok: true, deviceId: device.deviceId, scopes: hello.auth.scopes, issued: Boolean(hello.auth.deviceToken),
        cached: Boolean(device.token("operator")) };
    } catch (error) {
      return { ok: false, deviceId: device.deviceId, detailCode: error.detailCode, details: error.details };
    }
  };
</script>`;

describe.skipIf(!haveChromium)("the browser bundle in chromium", () => {
  let browser: Browser;
  let pages: Server;
  let pageOrigin = "";
  // The same page server under a name that is not loopback (chromium resolves it to 127.0.0.1 and treats it as a
  // secure context, as an HTTPS site would be): "another site" as far as the gateway can tell.
  let remoteOrigin = "";
  const gateways: GatewayServer[] = [];
  const stateDirs: string[] = [];

  beforeAll(async () => {
    // Built when missing or older than any source file (a stale bundle would test old code).
    const newestSource = Math.max(
      ...readdirSync(join(packageDir, "src"), { recursive: true, withFileTypes: true })
        .filter((entry) => entry.isFile())
        .map((entry) => statSync(join(entry.parentPath, entry.name)).mtimeMs),
    );
    if (!existsSync(bundle) || statSync(bundle).mtimeMs < newestSource) {
      const tsup = createRequire(join(packageDir, "package.json")).resolve("tsup/dist/cli-default.js");
      const build = spawnSync(process.execPath, [tsup], { cwd: packageDir, encoding: "utf8" });
      if (build.status !== 0) throw new Error(`building the browser bundle failed:\n${build.stderr}${build.stdout}`);
    }
    pages = createServer((request, response) => {
      if (request.url?.startsWith("/gateway-client.js")) {
        response.writeHead(200, { "content-type": "text/javascript" }).end(readFileSync(bundle));
      } else if (request.url?.startsWith("/device")) {
        response.writeHead(200, { "content-type": "text/html" }).end(devicePage);
      } else response.writeHead(200, { "content-type": "text/html" }).end(page);
    });
    await new Promise<void>((resolve) => pages.listen(0, "127.0.0.1", resolve));
    const pagesPort = (pages.address() as { port: number }).port;
    pageOrigin = `http://127.0.0.1:${pagesPort}`;
    remoteOrigin = `http://pages.example.test:${pagesPort}`;
    browser = await chromium.launch({
      executablePath: chromiumPath,
      args: [
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--host-resolver-rules=MAP pages.example.test 127.0.0.1",
        `--unsafely-treat-insecure-origin-as-secure=${remoteOrigin}`,
      ],
    });
  }, 60_000);

  afterAll(async () => {
    await browser?.close();
    for (const gateway of gateways) await gateway.close();
    await new Promise((resolve) => pages?.close(resolve));
    for (const stateDir of stateDirs) rmSync(stateDir, { recursive: true, force: true });
  });

  async function gateway(allowedOrigins: string[]) {
    const server = createGatewayServer({
      port: 0,
      auth: { mode: "token", token: TOKEN },
      allowedOrigins,
      logging: { level: "silent", stdout: false, file: false },
    });
    gateways.push(server);
    return { server, url: (await server.listen()).url };
  }

  it("connects, requests and receives events from a page on an allowed origin", async () => {
    const { server, url } = await gateway([pageOrigin]);
    const tab = await browser.newPage();
    await tab.goto(`${pageOrigin}/?gateway=${encodeURIComponent(url)}&token=${TOKEN}`);
    await tab.waitForFunction(() => (window as unknown as { __result?: unknown }).__result !== undefined);
    expect(await tab.evaluate(() => (window as unknown as { __result: unknown }).__result)).toMatchObject({
      ok: true,
      protocol: 4,
      connections: 1,
    });
    server.broadcast("heartbeat", { ts: Date.now(), status: "sent" });
    await tab.waitForFunction(() => (window as unknown as { __events: string[] }).__events.length > 0);
    expect(await tab.evaluate(() => (window as unknown as { __events: string[] }).__events)).toEqual(["sent"]);
    await tab.close();
  });

  it("is refused, with a reason it can show, by a gateway that does not allow its origin", async () => {
    const { url } = await gateway([]);
    const tab = await browser.newPage();
    await tab.goto(`${pageOrigin}/?gateway=${encodeURIComponent(url)}&token=${TOKEN}`);
    await tab.waitForFunction(() => (window as unknown as { __result?: unknown }).__result !== undefined);
    const result = await tab.evaluate(() => (window as unknown as { __result: Record<string, string> }).__result);
    expect(result).toMatchObject({ ok: false, detailCode: "ORIGIN_NOT_ALLOWED" });
    expect(result.message).toMatch(/allowedOrigins/);
    await tab.close();
  });

  async function pairingGateway(allowedOrigins: string[]) {
    const stateDir = mkdtempSync(join(tmpdir(), "client-browser-devices-"));
    stateDirs.push(stateDir);
    const devices = new DevicePairing({ store: new DeviceStore(stateDir) });
    const server = createGatewayServer({
      port: 0,
      auth: { mode: "token", token: TOKEN },
      allowedOrigins,
      connectStages: devices.connectStages(),
      logging: { level: "silent", stdout: false, file: false },
    });
    devices.attach(server);
    gateways.push(server);
    return { devices, url: (await server.listen()).url };
  }

  async function devicePageAt(origin: string, url: string) {
    const tab = await browser.newPage();
    await tab.goto(`${origin}/device?gateway=${encodeURIComponent(url)}&token=${TOKEN}`);
    await tab.waitForFunction(() => "__connect" in window);
    const connect = (withToken: boolean) =>
      tab.evaluate(
        (flag) => (window as unknown as { __connect(flag: boolean): Promise<any> }).__connect(flag),
        withToken,
      );
    return { tab, connect };
  }

  it("signs with a WebCrypto Ed25519 identity: pairs once approved, then reconnects with its device token alone", async () => {
    const { devices, url } = await pairingGateway([remoteOrigin]);
    const { tab, connect } = await devicePageAt(remoteOrigin, url);
    // another site's page is never paired silently, even with the shared token
    const first = await connect(true);
    expect(first).toMatchObject({ ok: false, detailCode: "PAIRING_REQUIRED", details: { reason: "not-paired" } });
    const pending = devices.store.list().pending;
    expect(pending.map((request) => request.deviceId)).toEqual([first.deviceId]);
    await devices.store.approve(pending[0]!.requestId);
    expect(await connect(true)).toMatchObject({ ok: true, scopes: ["operator.read"], issued: true, cached: true });
    expect(await connect(false)).toMatchObject({ ok: true, scopes: ["operator.read"], deviceId: first.deviceId });
    await tab.close();
  });

  it("a page the operator allowed that is served from this machine pairs silently with the shared token", async () => {
    const { devices, url } = await pairingGateway([pageOrigin]);
    const { tab, connect } = await devicePageAt(pageOrigin, url);
    const first = await connect(true);
    expect(first).toMatchObject({ ok: true, scopes: ["operator.read"], issued: true, cached: true });
    expect(devices.store.list().pending).toEqual([]);
    expect(await connect(false)).toMatchObject({ ok: true, deviceId: first.deviceId });
    await tab.close();
  });
});
