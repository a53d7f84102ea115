// Bundles the browser app (the Control UI and WebChat) into `<outDir>`: index.html, chat.html and assets/ with
// content-hashed names (cached for a year by the gateway). One esbuild run, no network, no framework.
// `node build-ui.mjs [outDir]` (default dist/ui); the gateway app calls buildControlUi() for its own bundle.
import { mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { basename, dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { build } from "esbuild";

const here = dirname(fileURLToPath(import.meta.url));
const source = join(here, "src", "app");

/** The pages: their HTML template and entry script. */
const PAGES = [
  { html: "index.html", entry: "main.ts" },
  { html: "chat.html", entry: "chat-main.ts" },
];

/** Build the UI into `outDir` (emptied first). Resolves with the bytes of each emitted file. */
export async function buildControlUi(outDir = join(here, "dist", "ui")) {
  rmSync(outDir, { recursive: true, force: true });
  const assets = join(outDir, "assets");
  mkdirSync(assets, { recursive: true });
  const result = await build({
    entryPoints: PAGES.map((page) => join(source, page.entry)),
    outdir: assets,
    bundle: true,
    splitting: true,
    format: "esm",
    platform: "browser",
    target: ["es2022", "chrome111", "firefox113", "safari16"],
    minify: true,
    sourcemap: "linked",
    entryNames: "[name]-[hash]",
    chunkNames: "shared-[hash]",
    assetNames: "[name]-[hash]",
    // Our packages from their sources: nothing needs building first.
    conditions: ["@gateway/source"],
    metafile: true,
    absWorkingDir: here,
    legalComments: "none",
    logLevel: "warning",
  });
  // <gateway-chat>, for other sites to embed: one file under a stable name (revalidated, not cached for a year), its
  // stylesheet bundled in as text for its shadow root.
  const embed = await build({
    entryPoints: [join(source, "gateway-chat.ts")],
    outfile: join(assets, "gateway-chat.js"),
    bundle: true,
    format: "esm",
    platform: "browser",
    target: ["es2022", "chrome111", "firefox113", "safari16"],
    minify: true,
    sourcemap: "linked",
    loader: { ".css": "text" },
    conditions: ["@gateway/source"],
    metafile: true,
    absWorkingDir: here,
    legalComments: "none",
    logLevel: "warning",
  });
  Object.assign(result.metafile.outputs, embed.metafile.outputs);
  const sizes = {};
  for (const page of PAGES) {
    const entry = join(source, page.entry);
    const [script, output] = Object.entries(result.metafile.outputs).find(
      ([, meta]) => meta.entryPoint && join(here, meta.entryPoint) === entry,
    );
    const scriptName = basename(script);
    const cssName = output.cssBundle ? basename(output.cssBundle) : undefined;
    const template = readFileSync(join(source, page.html), "utf8");
    const html = template
      .replace("%SCRIPT%", `assets/${scriptName}`)
      .replace("%STYLE%", cssName ? `assets/${cssName}` : "");
    writeFileSync(join(outDir, page.html), html);
  }
  for (const [file, meta] of Object.entries(result.metafile.outputs)) sizes[basename(file)] = meta.bytes;
  return sizes;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const sizes = await buildControlUi(process.argv[2]);
  const total = Object.entries(sizes)
    .filter(([name]) => !name.endsWith(".map"))
    .reduce((sum, [, bytes]) => sum + bytes, 0);
  process.stdout.write(
    `control-ui: ${Object.keys(sizes).length} files, ${(total / 1024).toFixed(1)} KiB (before gzip)\n`,
  );
}
