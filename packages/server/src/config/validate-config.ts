import { compiledChecker } from "@gateway/protocol";
import { type TSchema, TypeGuard } from "@sinclair/typebox";
import { ValueErrorType } from "@sinclair/typebox/errors";
import type { ConfigIssue } from "./errors.js";
import { isSecretKey } from "./redact.js";

function dotted(pointer: string): string {
  return pointer
    .split("/")
    .slice(1)
    .map((part) => part.replace(/~1/g, "/").replace(/~0/g, "~"))
    .map((part, index) => (/^\d+$/.test(part) ? `[${part}]` : index === 0 ? part : `.${part}`))
    .join("");
}

function describeSchema(schema: TSchema): string {
  if (TypeGuard.IsLiteral(schema)) return JSON.stringify(schema.const);
  if (TypeGuard.IsUnion(schema)) return schema.anyOf.map(describeSchema).join(" | ");
  if (TypeGuard.IsInteger(schema)) {
    const range = [
      schema.minimum !== undefined ? `≥ ${schema.minimum}` : "",
      schema.maximum !== undefined ? `≤ ${schema.maximum}` : "",
    ];
    return `an integer${range.some(Boolean) ? ` ${range.filter(Boolean).join(" and ")}` : ""}`;
  }
  if (TypeGuard.IsString(schema))
    return schema.minLength ? `a string of at least ${schema.minLength} characters` : "a string";
  if (TypeGuard.IsBoolean(schema)) return "true or false";
  if (TypeGuard.IsArray(schema)) return "a list";
  if (TypeGuard.IsObject(schema)) return "an object";
  return String(schema.type ?? "a value");
}

function describeValue(value: unknown, path: string): string {
  if (isSecretKey(path.split(".").at(-1) ?? "")) return "[redacted]";
  const text = JSON.stringify(value);
  if (text === undefined) return String(value);
  return text.length > 60 ? `${text.slice(0, 57)}...` : text;
}

/** Edit distance, for "did you mean" hints. */
function distance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, index) => index);
  for (let i = 1; i <= a.length; i++) {
    let previous = row[0]!;
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const current = row[j]!;
      row[j] = Math.min(row[j]! + 1, row[j - 1]! + 1, previous + (a[i - 1] === b[j - 1] ? 0 : 1));
      previous = current;
    }
  }
  return row[b.length]!;
}

function suggestion(key: string, allowed: string[]): string | undefined {
  let best: string | undefined;
  let bestDistance = Number.POSITIVE_INFINITY;
  for (const candidate of allowed) {
    const d = distance(key.toLowerCase(), candidate.toLowerCase());
    if (d < bestDistance) {
      best = candidate;
      bestDistance = d;
    }
  }
  return best !== undefined && bestDistance <= Math.max(2, Math.floor(key.length / 3)) ? best : undefined;
}

function schemaAt(root: TSchema, pointer: string): TSchema | undefined {
  let schema: TSchema | undefined = root;
  for (const part of pointer.split("/").slice(1)) {
    if (!schema) return undefined;
    if (TypeGuard.IsObject(schema)) schema = schema.properties[part];
    else if (TypeGuard.IsArray(schema)) schema = schema.items;
    else return undefined;
  }
  return schema;
}

/** Every problem of `value` against the config schema, each with its path, expectation, finding and a hint. */
export function validateConfig(schema: TSchema, value: unknown): ConfigIssue[] {
  const checker = compiledChecker(schema);
  if (checker.Check(value)) return [];
  const issues: ConfigIssue[] = [];
  const seen = new Set<string>();
  for (const error of checker.Errors(value)) {
    const path = dotted(error.path);
    if (error.type === ValueErrorType.ObjectAdditionalProperties) {
      // TypeBox points at the unknown key itself; the allowed keys are the parent object's properties.
      const parentPointer = error.path.slice(0, error.path.lastIndexOf("/"));
      const key = error.path.slice(error.path.lastIndexOf("/") + 1);
      const parent = schemaAt(schema, parentPointer);
      const allowed = parent && TypeGuard.IsObject(parent) ? Object.keys(parent.properties) : [];
      if (seen.has(path)) continue;
      seen.add(path);
      const near = suggestion(key, allowed);
      issues.push({
        path,
        message: "unknown key",
        expected: allowed.length > 0 ? `one of ${allowed.join(", ")}` : "no keys here",
        ...(near ? { hint: `did you mean \`${near}\`?` } : {}),
      });
      continue;
    }
    if (error.type === ValueErrorType.Union && seen.has(path)) continue;
    if (seen.has(path)) continue;
    seen.add(path);
    issues.push({
      path,
      message: error.type === ValueErrorType.Union ? "not an allowed value" : "invalid value",
      expected: describeSchema(error.schema),
      found: error.value === undefined ? "nothing" : describeValue(error.value, path),
    });
  }
  return issues;
}
