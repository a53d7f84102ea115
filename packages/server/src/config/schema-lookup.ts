import type { ConfigSchemaLookupResult, ConfigSchemaResponse } from "@gateway/protocol";
import { invalidRequest } from "@gateway/protocol";

type JsonSchema = {
  type?: string | string[];
  properties?: Record<string, JsonSchema>;
  additionalProperties?: boolean | JsonSchema;
  patternProperties?: Record<string, JsonSchema>;
  items?: JsonSchema;
  required?: string[];
  anyOf?: JsonSchema[];
};

/**
 * `config.schema.lookup`: the config schema at a dotted path (`channels.telegram.botToken`; `[]`/`*` steps into array
 * items and map values), with its direct children. A path the schema does not have is a clear error naming the first
 * step that is not there.
 */
export function lookupConfigSchema(response: ConfigSchemaResponse, path: string): ConfigSchemaLookupResult {
  const steps = path.replaceAll("[]", ".*").split(".").filter(Boolean);
  let node = response.schema as JsonSchema;
  const walked: string[] = [];
  for (const step of steps) {
    const next = child(node, step);
    if (!next)
      throw invalidRequest(
        `config.schema.lookup: ${[...walked, step].join(".")} is not in the config schema${walked.length ? ` (${walked.join(".")} has: ${Object.keys(properties(node)).join(", ") || "no named keys"})` : ""}`,
      );
    node = next;
    walked.push(step);
  }
  const required = new Set(objectOf(node)?.required ?? []);
  const children = Object.entries(properties(node)).map(([key, schema]) => ({
    key,
    path: [...walked, key].join("."),
    ...(schema.type !== undefined ? { type: schema.type } : {}),
    required: required.has(key),
    hasChildren: Object.keys(properties(schema)).length > 0 || schema.items !== undefined,
  }));
  const hint = response.uiHints[walked.join(".")];
  return { path: walked.join(".") || path, schema: node, ...(hint ? { hint } : {}), children };
}

/** The object form of a node (an optional field is `anyOf [schema, null]` in some generators). */
function objectOf(node: JsonSchema): JsonSchema | undefined {
  if (node.properties || node.additionalProperties || node.patternProperties || node.items) return node;
  return node.anyOf?.find((option) => option.properties || option.additionalProperties || option.items);
}

function properties(node: JsonSchema): Record<string, JsonSchema> {
  return objectOf(node)?.properties ?? {};
}

function child(node: JsonSchema, step: string): JsonSchema | undefined {
  const object = objectOf(node);
  if (!object) return undefined;
  if (object.properties && Object.hasOwn(object.properties, step)) return object.properties[step];
  if (step === "*" || /^\d+$/.test(step)) {
    if (object.items) return object.items;
  }
  if (typeof object.additionalProperties === "object") return object.additionalProperties;
  const pattern = Object.values(object.patternProperties ?? {})[0];
  return pattern;
}
