#!/usr/bin/env node
// The Control UI's first load in Debian's chromium against a gateway serving the built UI: bytes transferred (as
// sent, gzipped), first contentful paint, and time to interactive (the overview filled with the gateway's figures
// after the WebSocket handshake). Also the shell's gzipped size on disk, the target being ≤ 150 KB.
// Standalone: `node bench/control-ui.mjs` prints JSON (needs `pnpm build`); bench/run.mjs imports measureControlUi.
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { gzipSync } from "node:zlib";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const site = join(root, "packages", "control-ui", "dist", "ui");
const chromiumPath = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";
const TOKEN = "bench-token-0123456789abcdef";

/** The gzipped bytes of what the start page loads: the HTML, its entry script, the chunks it imports, its CSS. */
function shellBytes() {
  const html = readFileSync(join(site, "index.html"), "utf8");
  const assets = readdirSync(join(site, "assets"));
  const entry = /src="assets\/([^"]+)"/.exec(html)?.[1];
  const css = /href="assets\/([^"]+\.css)"/.exec(html)?.[1];
  const entryText = readFileSync(join(site, "assets", entry), "utf8");
  const chunks = assets.filter((name) => name.endsWith(".js") && name !== entry && entryText.includes(name));
  const files = [
    join(site, "index.html"),
    ...[entry, css, ...chunks].filter(Boolean).map((name) => join(site, "assets", name)),
  ];
  return files.reduce((sum, file) => sum + gzipSync(readFileSync(file), { level: 9 }).length, 0);
}

/** Measure `runs` cold first loads (a new browser context each time: nothing cached). */
export async function measureControlUi({ runs = 5 } = {}) {
  if (!existsSync(join(site, "index.html"))) throw new Error("the Control UI is not built: run `pnpm build` first");
  if (!existsSync(chromiumPath)) return undefined;
  const { chromium } = await import("playwright-core");
  const { createGatewayServer } = await import("../packages/server/dist/index.js");
  const stateDir = mkdtempSync(join(tmpdir(), "gateway-bench-ui-"));
  const server = createGatewayServer({
    port: 0,
    auth: { mode: "token", token: TOKEN },
    version: "bench",
    stateDir,
    logging: { level: "warn", stdout: false, file: false },
    controlUiRoot: site,
  });
  const { port } = await server.listen();
  const browser = await chromium.launch({
    executablePath: chromiumPath,
    args: ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking"],
  });
  const samples = [];
  try {
    for (let run = 0; run < runs; run++) {
      const context = await browser.newContext();
      const page = await context.newPage();
      const responses = [];
      page.on("response", (response) => responses.push(response));
      const started = Date.now();
      await page.goto(`http://127.0.0.1:${port}/#token=${TOKEN}`);
      await page.getByText("Event-loop delay").waitFor({ timeout: 10_000 });
      const interactive = Date.now() - started;
      const paint = await page.evaluate(
        () => performance.getEntriesByName("first-contentful-paint")[0]?.startTime ?? Number.NaN,
      );
      let bytes = 0;
      for (const response of responses) {
        const sizes = await response.request().sizes();
        bytes += sizes.responseBodySize + sizes.responseHeadersSize;
      }
      samples.push({ interactive, paint, bytes, requests: responses.length });
      await context.close();
    }
  } finally {
    await browser.close();
    await server.close();
    rmSync(stateDir, { recursive: true, force: true });
  }
  const median = (values) => values.sort((a, b) => a - b)[Math.floor(values.length / 2)];
  return {
    shellGzipBytes: shellBytes(),
    transferredBytes: median(samples.map((sample) => sample.bytes)),
    requests: median(samples.map((sample) => sample.requests)),
    firstPaintMs: median(samples.map((sample) => sample.paint)),
    interactiveMs: median(samples.map((sample) => sample.interactive)),
    runs,
  };
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  process.stdout.write(`${JSON.stringify(await measureControlUi(), null, 2)}\n`);
}
