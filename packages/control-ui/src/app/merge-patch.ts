// The JSON merge patch (RFC 7386) that turns one config into another. The Config page sends its edit as this
// patch: what the user did not touch is not in it — above all the secrets, shown as "[redacted]" and left so —
// and the gateway edits the file in place, keeping its comments.

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

function isPlainObject(value: unknown): value is Record<string, Json> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function equal(a: unknown, b: unknown): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

/** The patch from `before` to `after`, or undefined when they are the same (arrays are replaced whole). */
export function mergePatch(before: unknown, after: unknown): Json | undefined {
  if (isPlainObject(before) && isPlainObject(after)) {
    const patch: Record<string, Json> = {};
    for (const [key, value] of Object.entries(after)) {
      const child = key in before ? mergePatch(before[key], value) : value;
      if (child !== undefined) patch[key] = child;
    }
    for (const key of Object.keys(before)) if (!(key in after)) patch[key] = null;
    return Object.keys(patch).length > 0 ? patch : undefined;
  }
  return equal(before, after) ? undefined : (after as Json);
}
