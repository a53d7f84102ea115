// Which file a request path names, refusing anything outside the root. The path is decoded once and checked by
// segment (`..` in any spelling — `%2e%2e`, `..%2f` — is refused, never normalised away); the file's real path (every
// symlink followed) must still be under the root's real path, so a symlink the agent or anyone else placed in the
// folder cannot publish /etc/passwd or the gateway's config.
import { realpath, stat } from "node:fs/promises";
import { join, sep } from "node:path";

/** A file to serve, or why not (with the HTTP status to answer). */
export type Resolution =
  | { readonly ok: true; readonly path: string; readonly size: number }
  | { readonly ok: false; readonly status: 400 | 403 | 404 | 413; readonly reason: string };

const refuse = (status: 400 | 403 | 404 | 413, reason: string): Resolution => ({ ok: false, status, reason });

/**
 * Resolve `urlPath` (the request target, query allowed) against `root`. A directory serves its `index.html`; hidden
 * names (a segment starting with `.`) are not served; a file over `maxBytes` is refused with 413.
 */
export async function resolveCanvasFile(root: string, urlPath: string, maxBytes: number): Promise<Resolution> {
  const rawPath = urlPath.split(/[?#]/, 1)[0] ?? "/";
  let decoded: string;
  try {
    decoded = decodeURIComponent(rawPath);
  } catch {
    return refuse(400, "the path is not valid percent-encoding");
  }
  if (decoded.includes("\0") || decoded.includes("\\")) return refuse(400, "the path holds a NUL or a backslash");
  const segments = decoded.split("/").filter((segment) => segment !== "" && segment !== ".");
  if (segments.includes("..")) return refuse(403, "the path leaves the canvas root");
  if (segments.some((segment) => segment.startsWith("."))) return refuse(404, "hidden files are not served");

  let realRoot: string;
  try {
    realRoot = await realpath(root);
  } catch {
    return refuse(404, "the canvas root does not exist");
  }
  const inside = (path: string) => path === realRoot || path.startsWith(realRoot + sep);
  let real: string;
  try {
    real = await realpath(join(realRoot, ...segments));
  } catch {
    return refuse(404, "no such file");
  }
  if (!inside(real)) return refuse(403, "a symlink leads out of the canvas root");
  let info = await stat(real);
  if (info.isDirectory()) {
    try {
      real = await realpath(join(real, "index.html"));
    } catch {
      return refuse(404, "no index.html in this folder");
    }
    if (!inside(real)) return refuse(403, "a symlink leads out of the canvas root");
    info = await stat(real);
  }
  if (!info.isFile()) return refuse(404, "not a regular file");
  if (info.size > maxBytes) return refuse(413, `the file is larger than canvasHost.maxFileBytes (${maxBytes} bytes)`);
  return { ok: true, path: real, size: info.size };
}
