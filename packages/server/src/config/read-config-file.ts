import { readFileSync } from "node:fs";
import { dirname, isAbsolute, join, resolve } from "node:path";
import JSON5 from "json5";
import type { ConfigIssue } from "./errors.js";

/** Includes nest at most this deep. */
export const MAX_INCLUDE_DEPTH = 8;

/** The parsed file and every file it included (for the watcher). */
export interface ReadConfigResult {
  readonly value: Record<string, unknown>;
  readonly files: string[];
}

/** Why a config file cannot be read, and what to do: "config file is a directory…", "cannot read …: ENOENT". */
export function unreadableFileMessage(path: string, error: unknown, what = "config file"): string {
  const code = (error as NodeJS.ErrnoException).code;
  if (code === "EISDIR")
    return `${what} is a directory, not a file: point --config (or GATEWAY_CONFIG) at a file, e.g. ${join(path, "gateway.json5")}`;
  if (code === "EACCES" || code === "EPERM")
    return `${what} cannot be read (permission denied): run the gateway as the file's owner, or fix its permissions (chmod 600 ${path})`;
  return `cannot read ${what}: ${code ?? (error as Error).message}`;
}

/**
 * Read a JSON5 config file and resolve `$include` (a path or a list of paths, relative to the including file; merged
 * under the including object's own keys, which win). Cycles and nesting deeper than MAX_INCLUDE_DEPTH are issues.
 */
export function readConfigFile(file: string, issues: ConfigIssue[], text?: string): ReadConfigResult {
  const files: string[] = [];
  const value = readOne(resolve(file), [], issues, files, text);
  if (value !== undefined && !isObject(value)) issues.push({ path: file, message: "the config must be an object" });
  return { value: isObject(value) ? value : {}, files };
}

function readOne(file: string, chain: string[], issues: ConfigIssue[], files: string[], given?: string): unknown {
  if (chain.includes(file)) {
    issues.push({ path: file, message: `$include cycle: ${[...chain, file].join(" → ")}` });
    return {};
  }
  if (chain.length > MAX_INCLUDE_DEPTH) {
    issues.push({ path: file, message: `$include nests deeper than ${MAX_INCLUDE_DEPTH} files` });
    return {};
  }
  files.push(file);
  let text: string;
  try {
    text = given ?? readFileSync(file, "utf8");
  } catch (error) {
    issues.push({
      path: file,
      message: unreadableFileMessage(file, error, chain.length > 0 ? "included file" : "config file"),
      ...(chain.length > 0 ? { hint: `included from ${chain.at(-1)}` } : {}),
    });
    return {};
  }
  let parsed: unknown;
  try {
    parsed = JSON5.parse(text);
  } catch (error) {
    const syntax = error as Error & { lineNumber?: number; columnNumber?: number };
    issues.push({
      path: syntax.lineNumber ? `${file}:${syntax.lineNumber}:${syntax.columnNumber}` : file,
      message: `not valid JSON5: ${syntax.message.replace(/^JSON5: /, "")}`,
    });
    return {};
  }
  return resolveIncludes(parsed, file, [...chain, file], issues, files);
}

function resolveIncludes(
  value: unknown,
  file: string,
  chain: string[],
  issues: ConfigIssue[],
  files: string[],
): unknown {
  if (Array.isArray(value)) return value.map((item) => resolveIncludes(item, file, chain, issues, files));
  if (!isObject(value)) return value;
  const { $include, ...own } = value;
  let base: Record<string, unknown> = {};
  if ($include !== undefined) {
    const targets = Array.isArray($include) ? $include : [$include];
    for (const target of targets) {
      if (typeof target !== "string" || target === "") {
        issues.push({ path: file, message: "$include must be a file path or a list of file paths" });
        continue;
      }
      const included = readOne(isAbsolute(target) ? target : resolve(dirname(file), target), chain, issues, files);
      if (isObject(included)) base = deepMerge(base, included);
      else issues.push({ path: target, message: "an included file must contain an object" });
    }
  }
  const resolved: Record<string, unknown> = {};
  for (const [key, child] of Object.entries(own)) resolved[key] = resolveIncludes(child, file, chain, issues, files);
  return deepMerge(base, resolved);
}

/** Objects merge key by key; anything else from `override` replaces. */
export function deepMerge(base: Record<string, unknown>, override: Record<string, unknown>): Record<string, unknown> {
  const result: Record<string, unknown> = { ...base };
  for (const [key, value] of Object.entries(override)) {
    const existing = result[key];
    result[key] = isObject(existing) && isObject(value) ? deepMerge(existing, value) : value;
  }
  return result;
}

export function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}
