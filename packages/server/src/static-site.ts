// The Control UI's built files, served by the gateway on its own port: read once when the listener starts (a few
// hundred KB), each with its content type, a strong ETag and a gzip copy, so that a request never touches the disk.
import { createHash } from "node:crypto";
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { extname, join, relative, sep } from "node:path";
import { gzipSync } from "node:zlib";

/** One file ready to send. */
export interface SiteFile {
  readonly body: Buffer;
  readonly gzip: Buffer | undefined;
  readonly type: string;
  readonly etag: string;
  /** Hashed asset names never change content: cached for a year; pages are revalidated every time. */
  readonly immutable: boolean;
}

/** The site: its pages by name (`index`, `chat`) and its assets by path under `assets/`. */
export interface StaticSite {
  page(name: string): SiteFile | undefined;
  asset(path: string): SiteFile | undefined;
}

const TYPES: Record<string, string> = {
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".mjs": "text/javascript; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".map": "application/json; charset=utf-8",
  ".json": "application/json; charset=utf-8",
  ".svg": "image/svg+xml",
  ".png": "image/png",
  ".ico": "image/x-icon",
  ".webmanifest": "application/manifest+json",
  ".woff2": "font/woff2",
  ".txt": "text/plain; charset=utf-8",
};

/**
 * The Content-Security-Policy of every page: scripts and styles only from the gateway's own files (no inline
 * script, no eval), connections only back to the gateway ('self' covers its ws:// and wss://), never framed.
 */
export const CONTROL_UI_CSP = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data: blob:",
  "font-src 'self'",
  "connect-src 'self'",
  "object-src 'none'",
  "base-uri 'none'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join("; ");

/** Headers every file of the site is sent with. */
export const SITE_HEADERS: Readonly<Record<string, string>> = {
  "content-security-policy": CONTROL_UI_CSP,
  "x-content-type-options": "nosniff",
  "x-frame-options": "DENY",
  "referrer-policy": "no-referrer",
  "cross-origin-resource-policy": "same-origin",
};

/** Sent only to trustworthy origins (HTTPS, loopback): elsewhere browsers ignore it, and say so in the console. */
export const OPENER_POLICY_HEADER = { "cross-origin-opener-policy": "same-origin" } as const;

function prepare(body: Buffer, name: string, immutable: boolean): SiteFile {
  const type = TYPES[extname(name).toLowerCase()] ?? "application/octet-stream";
  const compressible = /^(text\/|application\/(json|manifest)|image\/svg)/.test(type) && body.length > 512;
  return {
    body,
    gzip: compressible ? gzipSync(body, { level: 9 }) : undefined,
    type,
    etag: `"${createHash("sha256").update(body).digest("base64url").slice(0, 27)}"`,
    immutable,
  };
}

function listFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return listFiles(path);
    return entry.isFile() ? [path] : [];
  });
}

/**
 * Load a built site from `root` (`index.html`, `chat.html`, `assets/…`). Pages get `<meta name="gateway-ws-path">`
 * — where the page's WebSocket connects, decided by the gateway and never by the URL (CVE-2026-25253). Their asset
 * links are relative (`assets/…`), so they work under any base path. Undefined when there is no `index.html`.
 */
export function loadStaticSite(root: string, options: { wsPath: string }): StaticSite | undefined {
  if (!existsSync(join(root, "index.html"))) return undefined;
  const pages = new Map<string, SiteFile>();
  const assets = new Map<string, SiteFile>();
  const meta = `<meta name="gateway-ws-path" content="${escapeAttribute(options.wsPath)}">`;
  for (const file of listFiles(root)) {
    const path = relative(root, file).split(sep).join("/");
    if (!statSync(file).isFile()) continue;
    if (/^[a-z-]+\.html$/.test(path)) {
      const html = readFileSync(file, "utf8").replace("<head>", `<head>${meta}`);
      pages.set(path.slice(0, -".html".length), prepare(Buffer.from(html), path, false));
    } else if (path.startsWith("assets/")) {
      // Built names carry a content hash (main-3F2A….js); anything else is revalidated.
      const hashed = /-[A-Za-z0-9_]{8,}\.[a-z0-9]+(\.map)?$/.test(path);
      assets.set(path.slice("assets/".length), prepare(readFileSync(file), path, hashed));
    }
  }
  return { page: (name) => pages.get(name), asset: (path) => assets.get(path) };
}

function escapeAttribute(value: string): string {
  return value.replace(/[&"<>]/g, (character) => `&#${character.charCodeAt(0)};`);
}

/** The page a gateway shows when its Control UI files are missing (a clone that has not been built). */
export const NOT_BUILT_PAGE = `<!doctype html><meta charset="utf-8"><title>Gateway</title>
<h1>The Control UI is not built</h1>
<p>This gateway is running, but the files of its web Control UI are missing. In a clone of the repository run
<code>npx -y pnpm@10 build</code> (or <code>npm start</code>, which builds them) and reload this page.</p>`;
