// Generates values that a JSON Schema accepts, for the conformance tests in both directions:
// fixtures from the reference schema must be accepted by ours, fixtures from ours must validate under the reference.

type Schema = Record<string, unknown> & {
  $ref?: string;
  type?: string | string[];
  const?: unknown;
  enum?: unknown[];
  anyOf?: Schema[];
  oneOf?: Schema[];
  allOf?: Schema[];
  properties?: Record<string, Schema>;
  patternProperties?: Record<string, Schema>;
  required?: string[];
  items?: Schema;
  minLength?: number;
  maxLength?: number;
  minimum?: number;
  maximum?: number;
  minItems?: number;
  pattern?: string;
  default?: unknown;
};

/** `minimal`: required fields only; `full`: every declared field. `variant` picks the branch of each union. */
export interface SampleOptions {
  mode: "minimal" | "full";
  variant: number;
  definitions?: Record<string, Schema>;
}

const knownPatterns: Record<string, string> = {
  "\\S": "x",
  "^session:.+": "session:main",
  "^data:image/png;base64,": "data:image/png;base64,iVBORw0KGgo=",
  "^[a-f0-9]{64}$": "a".repeat(64),
  "^[^/\\\\]+$": "job-1",
  "^\\+?[0-9 ()-]{7,20}$": "+1 (555) 010-0000",
  "^[a-z0-9][a-z0-9-]{0,63}$": "main",
  "^[A-Za-z0-9_./\\[\\]\\-*]+$": "gateway.auth",
};

function sampleString(schema: Schema, seed: string): string {
  if (schema.pattern !== undefined) {
    const known = knownPatterns[schema.pattern];
    if (known === undefined) throw new Error(`sample: no sample for pattern ${schema.pattern}`);
    return known;
  }
  const min = schema.minLength ?? 0;
  const max = schema.maxLength ?? Number.POSITIVE_INFINITY;
  let text = seed.length >= min ? seed : seed.padEnd(min, "x");
  if (text.length > max) text = text.slice(0, max);
  return text;
}

function sampleNumber(schema: Schema, integer: boolean): number {
  const min = schema.minimum ?? 0;
  const max = schema.maximum ?? Number.MAX_SAFE_INTEGER;
  const value = Math.min(Math.max(min, integer ? 1 : 1.5), max);
  return integer ? Math.ceil(value) : value;
}

/** A value `schema` accepts. Throws when the schema uses a feature this generator cannot satisfy. */
export function sampleFromSchema(schema: Schema, options: SampleOptions, seed = "sample", depth = 0): unknown {
  if (depth > 12) throw new Error("sample: schema too deep");
  if (schema.$ref !== undefined) {
    const name = schema.$ref.replace(/^.*#\/definitions\//, "");
    const target = options.definitions?.[name];
    if (!target) throw new Error(`sample: unresolved $ref ${schema.$ref}`);
    return sampleFromSchema(target, options, seed, depth + 1);
  }
  if (schema.const !== undefined) return schema.const;
  if (schema.enum !== undefined) return schema.enum[options.variant % schema.enum.length];
  const branches = schema.anyOf ?? schema.oneOf;
  if (branches !== undefined) {
    const branch = branches[options.variant % branches.length]!;
    return sampleFromSchema(branch, options, seed, depth + 1);
  }
  if (schema.allOf !== undefined) {
    throw new Error("sample: allOf is not supported; give this shape a hand-written fixture");
  }
  const type = Array.isArray(schema.type) ? schema.type[0] : schema.type;
  switch (type) {
    case "string":
      return sampleString(schema, seed);
    case "integer":
      return sampleNumber(schema, true);
    case "number":
      return sampleNumber(schema, false);
    case "boolean":
      return options.variant % 2 === 0;
    case "null":
      return null;
    case "array": {
      const count = Math.max(schema.minItems ?? 0, options.mode === "full" ? 1 : 0);
      const items = schema.items ?? {};
      return Array.from({ length: count }, (_, index) =>
        sampleFromSchema(items, options, `${seed}-${index}`, depth + 1),
      );
    }
    case "object":
    case undefined: {
      if (type === undefined && schema.properties === undefined && schema.patternProperties === undefined) {
        // `{}`: any value. Use a small object so "unknown" fields still carry data.
        return options.mode === "full" ? { note: seed } : "any";
      }
      const result: Record<string, unknown> = {};
      const required = new Set(schema.required ?? []);
      for (const [key, property] of Object.entries(schema.properties ?? {})) {
        if (options.mode === "full" || required.has(key)) {
          result[key] = sampleFromSchema(property, options, key, depth + 1);
        }
      }
      if (options.mode === "full" && schema.patternProperties !== undefined) {
        const [pattern, value] = Object.entries(schema.patternProperties)[0]!;
        if (pattern === "^.*$" || pattern === "^(.*)$")
          result.extraKey = sampleFromSchema(value, options, "extra", depth + 1);
      }
      return result;
    }
    default:
      throw new Error(`sample: unsupported type ${String(type)}`);
  }
}

/** How many branch variants cover every union of `schema` at least once. */
export function variantCount(
  schema: Schema,
  definitions: Record<string, Schema> = {},
  seen = new Set<Schema>(),
): number {
  if (seen.has(schema)) return 1;
  seen.add(schema);
  let count = 1;
  const visit = (child: Schema | undefined) => {
    if (child) count = Math.max(count, variantCount(child, definitions, seen));
  };
  if (schema.$ref) visit(definitions[schema.$ref.replace(/^.*#\/definitions\//, "")]);
  const branches = schema.anyOf ?? schema.oneOf;
  if (branches) {
    count = Math.max(count, branches.length);
    for (const branch of branches) visit(branch);
  }
  if (schema.enum) count = Math.max(count, schema.enum.length);
  for (const property of Object.values(schema.properties ?? {})) visit(property);
  for (const property of Object.values(schema.patternProperties ?? {})) visit(property);
  visit(schema.items);
  return Math.max(count, 2);
}

/** Minimal and full fixtures over every branch variant. */
export function fixturesFor(
  schema: Schema,
  definitions?: Record<string, Schema>,
): Array<{ label: string; value: unknown }> {
  const count = variantCount(schema, definitions ?? {});
  const fixtures: Array<{ label: string; value: unknown }> = [];
  for (const mode of ["minimal", "full"] as const) {
    for (let variant = 0; variant < count; variant++) {
      const options: SampleOptions = definitions ? { mode, variant, definitions } : { mode, variant };
      fixtures.push({ label: `${mode}#${variant}`, value: sampleFromSchema(schema, options) });
    }
  }
  return fixtures;
}
