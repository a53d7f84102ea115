// Live reload as a user sees it: a real chromium page on the canvas host reloads by itself when the agent rewrites
// the file it shows.
import { existsSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { checkAvailable, eventually } from "@gateway/vitest-preset/wait";
import { type Browser, chromium } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type CanvasHost, createCanvasHost } from "../src/index.js";
import { tempDir } from "./helpers.js";

const chromiumPath = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";
// Loud when skipped here; under CI=true a missing chromium fails the run.
const haveChromium = checkAvailable(existsSync(chromiumPath), `chromium at ${chromiumPath} (apt-get install chromium)`);

describe.skipIf(!haveChromium)("live reload in chromium", () => {
  const root = tempDir("canvas-browser-");
  let browser: Browser;
  let host: CanvasHost;

  beforeAll(async () => {
    writeFileSync(join(root.path, "index.html"), "<!doctype html><title>v1</title><body><h1>first</h1></body>");
    host = createCanvasHost({ root: root.path, port: 0 });
    await host.listen();
    browser = await chromium.launch({
      executablePath: chromiumPath,
      args: ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking"],
    });
  }, 60_000);

  afterAll(async () => {
    await browser?.close();
    await host?.close();
    root.remove();
  });

  it("reloads the open page when its file changes", async () => {
    const page = await browser.newPage();
    await page.goto(host.address!.url);
    expect(await page.textContent("h1")).toBe("first");
    await eventually(() => expect(host.liveReloadListeners).toBe(1), { timeoutMs: 10_000 });
    writeFileSync(join(root.path, "index.html"), "<!doctype html><title>v2</title><body><h1>second</h1></body>");
    await eventually(async () => expect(await page.textContent("h1")).toBe("second"), { timeoutMs: 10_000 });
    expect(await page.title()).toBe("v2");
    // The reloaded page listens again, for the next change.
    await eventually(() => expect(host.liveReloadListeners).toBe(1), { timeoutMs: 10_000 });
    await page.close();
  });
});
