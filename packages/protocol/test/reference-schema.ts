// Loads the reference implementation's published protocol.schema.json (from @openclaw/gateway-protocol, a
// devDependency of these tests only) as data, and compiles validators for its definitions with ajv.
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { Ajv, type ValidateFunction } from "ajv";

const require = createRequire(import.meta.url);

type Json = any;

/** The reference schema as parsed JSON. */
export function loadReferenceSchema(): Json {
  const entry = require.resolve("@openclaw/gateway-protocol");
  const path = join(dirname(entry), "..", "protocol.schema.json");
  return JSON.parse(readFileSync(path, "utf8"));
}

/** Validators for the reference's definitions (compiled lazily, once each). */
export function referenceValidators(schema: Json) {
  const ajv = new Ajv({ strict: false, allErrors: false, validateFormats: false });
  ajv.addSchema(schema);
  const cache = new Map<string, ValidateFunction>();
  /** `pointer` is a definition name, optionally followed by a path: `Snapshot/properties/health`. */
  return (pointer: string): ValidateFunction => {
    let validator = cache.get(pointer);
    if (!validator) {
      validator = ajv.getSchema(`${schema.$id}#/definitions/${pointer}`);
      if (!validator) throw new Error(`reference schema has no definitions/${pointer}`);
      cache.set(pointer, validator);
    }
    return validator;
  };
}

/** The schema object at a definitions pointer (`Snapshot/properties/health`). */
export function referenceDefinition(schema: Json, pointer: string): Json {
  return pointer.split("/").reduce((node: Json, key) => node?.[key], schema.definitions);
}
