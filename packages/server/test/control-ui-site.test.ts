// The Control UI's files as the server serves them, from a small site written here (the real UI is tested in a
// browser by the integration tests): base path, turning it off, a site that was never built, and what it refuses.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { normaliseBasePath } from "../src/options.js";
import { startGateway, type TestGateway } from "./helpers.js";

let site: string;
let gateway: TestGateway | undefined;

beforeAll(() => {
  site = mkdtempSync(join(tmpdir(), "gateway-site-"));
  mkdirSync(join(site, "assets"));
  writeFileSync(
    join(site, "index.html"),
    '<!doctype html><html><head><script type="module" src="assets/main-ABCDEFGH.js"></script></head></html>',
  );
  writeFileSync(join(site, "chat.html"), "<!doctype html><html><head><title>chat</title></head></html>");
  writeFileSync(join(site, "assets", "main-ABCDEFGH.js"), `console.log(${JSON.stringify("x".repeat(2000))});`);
  writeFileSync(join(site, "assets", "plain.css"), "body{}");
  writeFileSync(join(site, "secret.json"), '{"not":"served"}');
});
afterAll(() => rmSync(site, { recursive: true, force: true }));
afterEach(async () => {
  await gateway?.stop();
  gateway = undefined;
});

const get = (path: string, headers: Record<string, string> = {}) =>
  fetch(`http://127.0.0.1:${gateway!.port}${path}`, { headers, redirect: "manual" });

describe("the Control UI's files", () => {
  it("are served at the base path, WebChat beside them, with the WebSocket path written into each page", async () => {
    gateway = await startGateway({ controlUiRoot: site, controlUi: { basePath: "ui" } });
    const page = await get("/ui/");
    expect(page.status).toBe(200);
    expect(await page.text()).toContain('<head><meta name="gateway-ws-path" content="/">');
    expect((await get("/ui")).headers.get("location")).toBe("/ui/");
    expect((await get("/ui/chat")).status).toBe(200);
    // The gateway's own `/` stays the plain answer when the UI lives elsewhere.
    expect(await (await get("/")).text()).toMatch(/Connect a WebSocket client/);
    const asset = await get("/ui/assets/main-ABCDEFGH.js", { "accept-encoding": "gzip" });
    expect(asset.headers.get("cache-control")).toBe("public, max-age=31536000, immutable");
    expect(asset.headers.get("content-encoding")).toBe("gzip");
    expect(await asset.text()).toContain("xxxx");
    // Names without a content hash are revalidated.
    expect((await get("/ui/assets/plain.css")).headers.get("cache-control")).toBe("no-cache");
  });

  it("serve nothing but the built pages and assets", async () => {
    gateway = await startGateway({ controlUiRoot: site });
    expect((await get("/secret.json")).status).toBe(404);
    expect((await get("/assets/../secret.json")).status).toBe(404);
    expect((await get("/assets/%2e%2e/secret.json")).status).toBe(404);
    expect((await get("/assets/")).status).toBe(404);
  });

  it("are not served when gateway.controlUi.enabled is false", async () => {
    gateway = await startGateway({ controlUiRoot: site, controlUi: { enabled: false } });
    expect(await (await get("/")).text()).toMatch(/Connect a WebSocket client/);
    expect((await get("/chat")).status).toBe(404);
    expect((await get("/assets/main-ABCDEFGH.js")).status).toBe(404);
  });

  it("say how to build them when they are missing", async () => {
    gateway = await startGateway({ controlUiRoot: join(site, "nowhere") });
    const page = await get("/");
    expect(page.status).toBe(503);
    expect(await page.text()).toMatch(/The Control UI is not built.*pnpm@10 build/s);
  });

  it("refuse a base path that is not a plain path", () => {
    expect(normaliseBasePath("/")).toBe("/");
    expect(normaliseBasePath("ui")).toBe("/ui/");
    expect(normaliseBasePath("/a/b")).toBe("/a/b/");
    for (const bad of ["/../x", "/a b/", "/<script>/", "//evil.example/x?"])
      expect(() => normaliseBasePath(bad)).toThrow(/not a plain path/);
  });
});
